import { createAuthClient } from "better-auth/react";
import { jwtClient } from "better-auth/client/plugins";

/** Better Auth in the browser; it talks to this app's /api/auth routes with the session cookie. */
export const authClient = createAuthClient({ plugins: [jwtClient()] });
