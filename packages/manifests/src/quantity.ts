/**
 * Kubernetes resource quantities (`500m`, `1`, `128Mi`, `1e3`), parsed exactly so that limits and
 * requests written in different units compare correctly (`0.5` equals `500m`).
 */

/** An exact non-negative rational value: numerator / denominator. */
export interface Quantity {
  numerator: bigint;
  denominator: bigint;
}

const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY_POWER: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_POWER: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Exponents far beyond any real resource amount are refused rather than computed. */
const MAX_EXPONENT = 30;

/** The quantity's exact value, or `null` when `text` is not a (non-negative) Kubernetes quantity. */
export function parseQuantity(text: string): Quantity | null {
  const m = QUANTITY.exec(text);
  if (!m) return null;
  const [, number = "", binary, decimal, exponent] = m;
  const [whole = "", fraction = ""] = number.split(".");
  let numerator = BigInt(`${whole}${fraction}` || "0");
  let denominator = 10n ** BigInt(fraction.length);
  let power10 = 0;
  if (binary !== undefined) numerator *= 2n ** (BINARY_POWER[binary] ?? 0n);
  if (decimal !== undefined) power10 = DECIMAL_POWER[decimal] ?? 0;
  if (exponent !== undefined) {
    power10 = Number(exponent);
    if (Math.abs(power10) > MAX_EXPONENT) return null;
  }
  if (power10 > 0) numerator *= 10n ** BigInt(power10);
  if (power10 < 0) denominator *= 10n ** BigInt(-power10);
  return { numerator, denominator };
}

export function isQuantity(text: string): boolean {
  return parseQuantity(text) !== null;
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const left = a.numerator * b.denominator;
  const right = b.numerator * a.denominator;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Whether two quantity strings denote the same amount (`0.5` and `500m`); plain equality otherwise. */
export function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const pa = parseQuantity(a);
  const pb = parseQuantity(b);
  return pa && pb ? compareQuantities(pa, pb) === 0 : a === b;
}
