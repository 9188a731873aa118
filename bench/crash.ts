// The crash benchmark: the crash scenario of test/crash-scenario.ts (the built server SIGKILLed at five points
// of a deploy and restarted on the same data dir with its embedded PostgreSQL), reported as figures.
import { type CrashResult, runCrashScenario, SETTLE_LIMIT_MS } from "../test/crash-scenario.ts";
import { type Row, round } from "./table.ts";

export const CRASH_CYCLES = 20;
export const CRASH_TARGET = { recoveryMs: SETTLE_LIMIT_MS, lost: 0, duplicated: 0, unsettled: 0 };

export async function crashBench(bundle: string): Promise<CrashResult> {
  console.log(`crash recovery: ${CRASH_CYCLES} cycles of SIGKILL during a deploy, restart on the same data dir`);
  return runCrashScenario({ bundle, cycles: CRASH_CYCLES, log: (line) => console.log(`  ${line}`) });
}

export function crashRows(r: CrashResult): Row[] {
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const restarts = sorted(r.cycles.map((c) => c.restartMs));
  const median = (v: number[]) => v[Math.floor((v.length - 1) / 2)] ?? Number.NaN;
  return [
    {
      metric: `crash recovery: SIGKILL → every deployment settled, median of ${r.cycles.length} cycles (${r.kills} kills)`,
      measured: `${round(r.recoveryMs.p50 / 1000, 2)} s`,
      target: "≤ 60 s",
      ratio: r.recoveryMs.p50 / CRASH_TARGET.recoveryMs,
    },
    {
      metric: "crash recovery, max",
      measured: `${round(r.recoveryMs.max / 1000, 2)} s`,
      target: "≤ 60 s",
      ratio: r.recoveryMs.max / CRASH_TARGET.recoveryMs,
    },
    {
      metric: "  of which SIGKILL → /readyz 200 again (leftover PostgreSQL stopped, restarted), median",
      measured: `${round(median(restarts) / 1000, 2)} s`,
    },
    {
      metric: "crash: deployments committed / failed with a reason (killed twice)",
      measured: `${r.committed} / ${r.failed} (${r.failedTwice})`,
    },
    {
      metric: "crash: deployments stuck (not settled 60 s after restart)",
      measured: String(r.unsettled.length),
      ok: r.unsettled.length === 0,
    },
    {
      metric: "crash: commits lost / duplicated on the branch",
      measured: `${r.lost.length} / ${r.duplicated.length}`,
      ok: r.lost.length === 0 && r.duplicated.length === 0,
    },
    {
      metric: "crash: a deploy after the last cycle (queue not blocked)",
      measured: `${round(r.finalDeployMs)} ms`,
      ok: Number.isFinite(r.finalDeployMs),
    },
  ];
}

/** The JSON figures: per-cycle details trimmed to what a comparison needs. */
export function crashSummary(r: CrashResult) {
  return {
    cycles: r.cycles.length,
    kills: r.kills,
    recoveryMs: { p50: round(r.recoveryMs.p50), max: round(r.recoveryMs.max) },
    restartMs: r.cycles.map((c) => round(c.restartMs)),
    committed: r.committed,
    failed: r.failed,
    unsettled: r.unsettled.length,
    lost: r.lost.length,
    duplicated: r.duplicated.length,
    finalDeployMs: round(r.finalDeployMs),
    wallMs: round(r.wallMs),
  };
}
