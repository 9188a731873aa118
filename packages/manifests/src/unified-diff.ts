import { structuredPatch } from "diff";

/**
 * A git-style unified diff from `before` to `after` (path → content; `null` or a missing key means the
 * file does not exist on that side), files in path order, 3 lines of context, as `git diff` prints it
 * (without `index` lines): `git apply` takes it.
 */
export function unifiedDiff(before: Record<string, string | null>, after: Record<string, string | null>): string {
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  let out = "";
  for (const path of paths) {
    const oldText = before[path] ?? null;
    const newText = after[path] ?? null;
    if (oldText === newText) continue;
    out += fileDiff(path, oldText, newText);
  }
  return out;
}

function fileDiff(path: string, oldText: string | null, newText: string | null): string {
  const a = quotePath(`a/${path}`);
  const b = quotePath(`b/${path}`);
  const lines = [`diff --git ${a} ${b}`];
  if (oldText === null) lines.push("new file mode 100644");
  if (newText === null) lines.push("deleted file mode 100644");
  const patch = structuredPatch(`a/${path}`, `b/${path}`, oldText ?? "", newText ?? "", undefined, undefined, {
    context: 3,
  });
  if (patch.hunks.length > 0) {
    lines.push(`--- ${oldText === null ? "/dev/null" : a}`, `+++ ${newText === null ? "/dev/null" : b}`);
    for (const hunk of patch.hunks) {
      lines.push(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`);
      lines.push(...hunk.lines);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** git omits a count of 1, and an empty range starts at the line before. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** git's C-style quoting of unusual paths (core.quotePath). */
function quotePath(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what gets quoted
  if (!/["\\\u0000-\u001f\u007f-\uffff]/.test(path)) return path;
  const escapes: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r" };
  let out = "";
  for (const byte of new TextEncoder().encode(path)) {
    const ch = String.fromCharCode(byte);
    if (escapes[ch] !== undefined) out += escapes[ch];
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += ch;
  }
  return `"${out}"`;
}
