// `npm run dev`: the server from sources with reload (tsx watch, port 3000) and the Vite dev
// server for the web UI (it proxies /trpc, /auth and /api to the server). Ctrl-C stops both.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
if (existsSync(path.join(root, ".env"))) process.loadEnvFile(path.join(root, ".env"));

// The browser talks to the Vite server, which proxies to the API: that is the public URL here (the API
// accepts changes only from its public URL's origin).
const serverEnv = { ...process.env, JUANIE_PUBLIC_URL: process.env.JUANIE_PUBLIC_URL ?? "http://localhost:5173" };
const children = [
  spawn("npx", ["tsx", "watch", "apps/server/src/main.ts"], { cwd: root, stdio: "inherit", env: serverEnv }),
  spawn("npx", ["vite", "--host", "127.0.0.1"], { cwd: path.join(root, "apps/web"), stdio: "inherit" }),
];
const stop = () => {
  for (const c of children) c.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
for (const c of children) c.on("exit", (code) => code && code !== 0 && stop());
