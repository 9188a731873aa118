// `npm start`: builds the web UI and the server when their sources changed since the last build,
// then runs the server in this process.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const serverBundle = path.join(root, "apps/server/dist/bin/main.js");
const webIndex = path.join(root, "apps/web/dist/index.html");

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const sources = ["packages", "apps/server/src", "apps/web/src", "apps/web/index.html"].map((p) => path.join(root, p));
const latestSource = Math.max(...sources.map((p) => (existsSync(p) && statSync(p).isFile() ? mtime(p) : newest(p))));

if (mtime(serverBundle) < latestSource || mtime(webIndex) < latestSource) {
  process.stdout.write("Building Juanie (first start or sources changed)…\n");
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// Settings from ./.env (see .env.example), without overriding the real environment.
if (existsSync(path.join(root, ".env"))) process.loadEnvFile(path.join(root, ".env"));
// Deploy previews are checked with the real kustomize: fetch the bundled kubectl once when the machine
// has neither kustomize nor kubectl (a failure only means previews say "not render-verified").
const onPath = (name) =>
  (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, name)));
if (!process.env.JUANIE_KUSTOMIZE && !onPath("kustomize") && !onPath("kubectl")) {
  spawnSync(process.execPath, [path.join(root, "scripts/fetch-kubectl.mjs"), "--quiet"], { stdio: "inherit" });
}
await import(pathToFileURL(serverBundle).href);
