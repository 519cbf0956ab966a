// Writes .env.local once, with a fresh BETTER_AUTH_SECRET, and never overwrites it: Better Auth
// encrypts the signing keys it stores with that secret, so a new secret at each start would make
// them unreadable (get-session and token would answer 500). Next.js reads .env.local by itself.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

if (!existsSync(".env.local")) {
  const secret = randomBytes(32).toString("hex");
  writeFileSync(
    ".env.local",
    `# Written once by \`npm run env\` (scripts/write-env.mjs); git-ignored, yours to edit.\nBETTER_AUTH_SECRET=${secret}\n`,
    { mode: 0o600, flag: "wx" },
  );
  console.log("Wrote .env.local with a fresh BETTER_AUTH_SECRET (kept across restarts).");
}
