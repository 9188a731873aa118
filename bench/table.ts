// The report table every benchmark adds rows to.

export interface Row {
  metric: string;
  measured: string;
  target?: string;
  /** Measured / target: ≤ 1 is ok. */
  ratio?: number;
  /** For a count whose target is a number to hit (0 lost, 100 landed), where a ratio says nothing. */
  ok?: boolean;
}

export function printTable(rows: Row[]) {
  const verdict = (r: Row) =>
    r.ok !== undefined ? (r.ok ? "ok" : "MISS") : r.ratio === undefined ? "info" : r.ratio <= 1 ? "ok" : "MISS";
  const cells = rows.map((r) => [
    r.metric,
    r.measured,
    r.target ?? "—",
    r.ratio === undefined ? "—" : r.ratio.toFixed(2),
    verdict(r),
  ]);
  const header = ["metric", "measured", "target", "ratio", "ok?"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const c of cells) console.log(line(c));
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
