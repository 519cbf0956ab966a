"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { authClient } from "@/lib/auth-client";

/** Sign in, or create an account, with email and password. */
export default function SignInPage() {
  const router = useRouter();
  const [mode, setMode] = useState<"sign-in" | "sign-up">("sign-in");
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    const { error } =
      mode === "sign-up"
        ? await authClient.signUp.email({ email, password, name: String(form.get("name")) })
        : await authClient.signIn.email({ email, password });
    if (error) setError(error.message ?? "That did not work.");
    else router.push("/tasks");
  }

  return (
    <>
      <h1>{mode === "sign-up" ? "Create an account" : "Sign in"}</h1>
      <form onSubmit={submit}>
        {mode === "sign-up" && (
          <label>
            Name <input name="name" required />
          </label>
        )}
        <label>
          Email <input name="email" type="email" required />
        </label>
        <label>
          Password <input name="password" type="password" minLength={8} required />
        </label>
        {error && <p className="error">{error}</p>}
        <button type="submit">{mode === "sign-up" ? "Sign up" : "Sign in"}</button>
      </form>
      <button type="button" id="switch-mode" onClick={() => setMode(mode === "sign-up" ? "sign-in" : "sign-up")}>
        {mode === "sign-up" ? "I have an account" : "Create an account"}
      </button>
    </>
  );
}
