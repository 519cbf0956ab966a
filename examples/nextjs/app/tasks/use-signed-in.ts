"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { authClient } from "@/lib/auth-client";
import { forgetToken } from "@/lib/token";

/** The signed-in user (null while the session loads); sends everyone else to the sign-in page.
 * A session Better Auth failed to read is a `problem` to show, not a reason to sign in again. */
export function useSignedIn() {
  const router = useRouter();
  const { data, isPending, error } = authClient.useSession();
  useEffect(() => {
    if (!isPending && !data && !error) router.replace("/");
  }, [isPending, data, error, router]);
  const problem = error
    ? `Better Auth could not read the session (HTTP ${error.status}); see the app's server log.`
    : null;

  async function signOut() {
    await authClient.signOut();
    forgetToken();
    router.replace("/");
  }

  return { user: data?.user ?? null, problem, signOut };
}
