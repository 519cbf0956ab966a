import type { NextConfig } from "next";

const config: NextConfig = {
  // Better Auth's SQLite driver is a native module: load it from node_modules, never bundle it.
  serverExternalPackages: ["better-sqlite3"],
};

export default config;
