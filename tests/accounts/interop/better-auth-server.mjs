// A real Better Auth instance for tests/accounts/test_better_auth_interop.py.
//
// Serves Better Auth on 127.0.0.1 (a free port), signs Alice up through its own HTTP API, fetches
// her JWT from /api/auth/token, and prints one JSON line once ready:
//   {"url", "user", "token", "sessionToken"}
// ALGORITHM picks how tokens are signed: EdDSA (the jwt() plugin's default), ES256, RS256, or
// HS256, the shared-secret mode where the plugin's jwt.sign hook signs with BETTER_AUTH_SECRET.
// POST /interop/rotate publishes a new signing key (the old one stays in the JWKS, as during
// Better Auth's grace period) and answers {"token"} signed with the new key.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import { createJwk } from "better-auth/plugins/jwt";
import { SignJWT } from "jose";

const algorithm = process.env.ALGORITHM ?? "EdDSA";
const secret = process.env.BETTER_AUTH_SECRET ?? "interop-secret-that-is-long-enough-0123456789";

function jwtOptions(url) {
  if (algorithm === "HS256") {
    return {
      // The plugin insists on a remote JWKS URL when tokens are signed by a custom hook.
      jwks: { remoteUrl: `${url}/unused-jwks`, keyPairConfig: { alg: "EdDSA" } },
      jwt: {
        sign: (payload) =>
          new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret)),
      },
    };
  }
  return { jwks: { keyPairConfig: { alg: algorithm } } };
}

const server = createServer();
server.listen(0, "127.0.0.1", async () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  const options = jwtOptions(url);
  const auth = betterAuth({
    baseURL: url,
    secret,
    // Better Auth's own in-memory store: plain JavaScript, so installing the helper compiles nothing.
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
    emailAndPassword: { enabled: true },
    plugins: [jwt(options)],
    telemetry: { enabled: false },
    logger: { level: "error" },
  });
  const betterAuthHandler = toNodeHandler(auth);
  let cookie;
  server.on("request", async (req, res) => {
    if (req.method === "POST" && req.url === "/interop/rotate") {
      await createJwk({ context: await auth.$context }, options);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ token: await tokenFor(cookie) }));
      return;
    }
    betterAuthHandler(req, res);
  });

  async function tokenFor(cookie) {
    const response = await fetch(`${url}/api/auth/token`, { headers: { cookie } });
    return (await response.json()).token;
  }

  const signUp = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email: "alice@example.com", password: "correct horse battery staple", name: "Alice Liddell" }),
  });
  if (!signUp.ok) throw new Error(`sign-up failed: ${signUp.status} ${await signUp.text()}`);
  const { user, token: sessionToken } = await signUp.json();
  cookie = signUp.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

  console.log(JSON.stringify({ url, user, token: await tokenFor(cookie), sessionToken }));
});
