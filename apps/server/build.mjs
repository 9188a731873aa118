// Bundles the server and the workspace packages it uses (TypeScript sources) into one ESM file.
// Third-party packages stay external and load from node_modules.

import { cp, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dist = here("./dist");

await rm(dist, { recursive: true, force: true });
await build({
  entryPoints: [here("./src/main.ts")],
  outfile: here("./dist/bin/main.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  plugins: [
    {
      name: "external-node-modules",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@juanie/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
// The db package finds its migrations at ../migrations from the running file.
await mkdir(here("./dist"), { recursive: true });
await cp(here("../../packages/db/migrations"), here("./dist/migrations"), { recursive: true });
