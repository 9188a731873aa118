// Issue 8, parts 4 and 5: the built server (as `npm start` runs it, embedded PostgreSQL included) is SIGKILLed
// at several points of a deploy and started again on the same data dir, cycle after cycle.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type CrashResult, KILL_POINTS, runCrashScenario, SETTLE_LIMIT_MS } from "../crash-scenario.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** ≥ 20 kills: every kill point at least four times (the `twice` cycles kill two times each). */
const CYCLES = Number(process.env.JUANIE_CRASH_CYCLES ?? 20);

describe("a server killed in the middle of deploys", () => {
  let result: CrashResult;

  it(
    `comes back with every deployment committed once or failed with a reason (${CYCLES} cycles)`,
    async () => {
      result = await runCrashScenario({
        bundle: path.join(root, "apps/server/dist/bin/main.js"),
        cycles: CYCLES,
        log: (line) => process.stdout.write(`  ${line}\n`),
      });
      expect(result.kills).toBeGreaterThanOrEqual(Math.min(20, CYCLES));
      expect(new Set(result.cycles.map((c) => c.point))).toEqual(
        new Set(KILL_POINTS.slice(0, Math.min(CYCLES, KILL_POINTS.length))),
      );
      // None stuck: every deployment settled within a minute of the restart.
      expect(result.unsettled).toEqual([]);
      for (const c of result.cycles) expect(c.recoveryMs - c.restartMs).toBeLessThan(SETTLE_LIMIT_MS);
      // No commit lost or duplicated, on the real repository's history.
      expect(result.lost).toEqual([]);
      expect(result.duplicated).toEqual([]);
      expect(result.trailerCommits).toBe(result.committed);
      expect(result.committed + result.failed).toBe(result.deployments);
      // Killed during two pushes that never landed: re-queued once, then failed with the reason.
      const twice = result.cycles.filter((c) => c.point === "twice");
      for (const c of twice) expect(c.status).toBe("failed");
      expect(result.failedTwice).toBe(twice.length);
      // Every other kill point ends committed: the commit either landed (found by its SHA) or was made again.
      for (const c of result.cycles.filter((c) => c.point !== "twice")) expect(c.status).toBe("committed");
      // The repository's queue is not blocked and nothing stays locked.
      expect(result.finalDeployMs).toBeLessThan(20_000);
      expect(result.lockedJobs).toBe(0);
      expect(result.lockedQueues).toBe(0);
    },
    20 * 60_000,
  );

  it("restarts on the embedded PostgreSQL the killed server left running, which only the generated password opens", () => {
    expect(result, "the crash cycles ran").toBeDefined();
    // The kill left PostgreSQL running every time; each start found it, said so, and started anyway.
    expect(result.cycles.every((c) => c.leftoverPostgres)).toBe(true);
    expect(result.leftoverWarnings).toBeGreaterThanOrEqual(result.kills);
    expect(result.passwordFileMode).toBe(0o600);
    expect(result.fixedPasswordRefused).toBe(true);
  });
});
