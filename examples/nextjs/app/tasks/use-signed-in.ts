"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { authClient } from "@/lib/auth-client";
import { forgetToken } from "@/lib/token";

/** The signed-in user (null while the session loads); sends everyone else to the sign-in page. */
export function useSignedIn() {
  const router = useRouter();
  const { data, isPending } = authClient.useSession();
  useEffect(() => {
    if (!isPending && !data) router.replace("/");
  }, [isPending, data, router]);

  async function signOut() {
    await authClient.signOut();
    forgetToken();
    router.replace("/");
  }

  return { user: data?.user ?? null, signOut };
}
