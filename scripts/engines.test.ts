import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

// `npm ci` prints an EBADENGINE warning for every installed package whose `engines.node` does not
// accept the running Node. Every package in the lockfile must accept both ends of the range we
// support: the oldest Node the root `engines` allows and the current LTS most users run.
const root = resolve(import.meta.dirname, "..");
const manifest = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(resolve(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

const oldest = semver.minVersion(manifest.engines.node)?.version ?? "";
const supported = [oldest, "22.13.0", "24.0.0"];

describe("npm ci on the supported Node versions", () => {
  it("has an engines range starting at a real Node release", () => {
    expect(oldest).toBe("20.19.0");
  });

  for (const node of supported) {
    it(`installs no package that refuses Node ${node} (no EBADENGINE warning)`, () => {
      const refused = Object.entries(lock.packages)
        .filter(([path, p]) => path !== "" && p.engines && !Array.isArray(p.engines) && p.engines.node)
        .filter(([, p]) => {
          const range = (p.engines as { node: string }).node;
          return !semver.satisfies(node, range, { includePrerelease: true });
        })
        .map(
          ([path, p]) =>
            `${path.replace(/^.*node_modules\//, "")}@${p.version} wants node ${(p.engines as { node: string }).node}`,
        );
      expect(refused).toEqual([]);
    });
  }
});
