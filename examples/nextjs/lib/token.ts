// The API token: a JWT that Better Auth issues for the signed-in user (GET /api/auth/token).
// One token serves every call until shortly before it expires; concurrent callers share one fetch.
import { decodeJwt } from "jose";
import { authClient } from "./auth-client";

let cached: { token: string; renewAt: number } | null = null;
let pending: Promise<string> | null = null;

/** Thrown when there is no session to get a token for. */
export class SignedOut extends Error {}

/** Thrown when Better Auth failed to issue a token for a session it may still have. */
export class TokenUnavailable extends Error {}

/** The current token; `fresh` skips the cached one (after the API refused it). */
export function apiToken({ fresh = false } = {}): Promise<string> {
  if (!fresh && cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
  pending ??= fetchToken().finally(() => {
    pending = null;
  });
  return pending;
}

/** Drops the cached token (on sign-out, so the next user never gets it). */
export function forgetToken(): void {
  cached = null;
}

async function fetchToken(): Promise<string> {
  const { data, error } = await authClient.token();
  if (error && error.status !== 401) {
    // Usually a BETTER_AUTH_SECRET other than the one Better Auth's stored keys were made with
    // (see README.md, "Run it next to the API"); the app's server log says more.
    throw new TokenUnavailable(`Better Auth could not issue an API token (HTTP ${error.status}); see the app's server log.`);
  }
  if (!data?.token) throw new SignedOut("Not signed in.");
  const { iat = 0, exp = 0 } = decodeJwt(data.token);
  // Renew a fifth of the lifetime early (at most 30 s), so a request never leaves with a token
  // about to lapse; a 15-minute token is reused for 14.5 minutes.
  const margin = Math.min(30, (exp - iat) / 5);
  cached = { token: data.token, renewAt: (exp - margin) * 1000 };
  return data.token;
}
