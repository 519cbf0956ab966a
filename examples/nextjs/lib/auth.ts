// Better Auth on the Next.js server: email + password accounts, and the jwt() plugin that issues
// the tokens the todo API accepts. `npm run migrate` (Better Auth's CLI) creates its tables.
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";
import { SignJWT } from "jose";
import { Pool } from "pg";

const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
const secret = process.env.BETTER_AUTH_SECRET;

// Better Auth's own users and sessions: PostgreSQL when DATABASE_URL says so, else an SQLite file.
function database() {
  const url = process.env.DATABASE_URL;
  if (url) return new Pool({ connectionString: url });
  return new Database(process.env.BETTER_AUTH_DATABASE ?? "better-auth.sqlite");
}

// EdDSA with keys published at /api/auth/jwks (the API fetches them), unless
// BETTER_AUTH_JWT_ALG=HS256 asks for tokens signed with the secret the API shares.
function jwtOptions(): Parameters<typeof jwt>[0] {
  const expirationTime = process.env.BETTER_AUTH_JWT_EXPIRATION ?? "15m";
  if (process.env.BETTER_AUTH_JWT_ALG !== "HS256") return { jwt: { expirationTime } };
  if (!secret) throw new Error("BETTER_AUTH_JWT_ALG=HS256 needs BETTER_AUTH_SECRET, the same value the API has.");
  const key = new TextEncoder().encode(secret);
  return {
    // The plugin wants a remote key set when a custom hook signs; the API never reads it in this mode.
    jwks: { remoteUrl: `${baseURL}/api/auth/jwks`, keyPairConfig: { alg: "EdDSA" } },
    jwt: {
      expirationTime,
      sign: (payload) => new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key),
    },
  };
}

export const auth = betterAuth({
  baseURL,
  secret,
  database: database(),
  emailAndPassword: { enabled: true },
  plugins: [jwt(jwtOptions())],
  telemetry: { enabled: false },
});
