/**
 * A unified diff of two texts (what `--dry-run` prints), line based, with `context` lines around
 * each change. Pure; quadratic in the lines, fine for config files of a few hundred lines.
 */
export function unifiedDiff(
  before: string,
  after: string,
  names: { from: string; to: string },
  context = 3,
): string {
  if (before === after) return "";
  const a = lines(before);
  const b = lines(after);
  // Longest common subsequence lengths of the suffixes a[i..], b[j..], row-major.
  const width = b.length + 1;
  const lcs = new Int32Array((a.length + 1) * width);
  const at = (i: number, j: number) => lcs[i * width + j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const ops: { kind: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] ?? "" });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || at(i + 1, j) >= at(i, j + 1))) {
      ops.push({ kind: "-", line: a[i] ?? "" });
      i++;
    } else {
      ops.push({ kind: "+", line: b[j] ?? "" });
      j++;
    }
  }
  const out = [`--- ${names.from}`, `+++ ${names.to}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]?.kind === " ") {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while the next change is within 2*context unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end]?.kind !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next]?.kind === " ") next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    end = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, end);
    const aStart = countBefore(ops, start, "-");
    const bStart = countBefore(ops, start, "+");
    const aLen = hunk.filter((op) => op.kind !== "+").length;
    const bLen = hunk.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${aStart + (aLen > 0 ? 1 : 0)},${aLen} +${bStart + (bLen > 0 ? 1 : 0)},${bLen} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    k = end;
    start = end;
  }
  return `${out.join("\n")}\n`;
}

/** Lines of the old (`-`) or new (`+`) side before position `at`. */
function countBefore(ops: readonly { kind: string }[], at: number, skip: "-" | "+"): number {
  return ops.slice(0, at).filter((op) => op.kind !== (skip === "-" ? "+" : "-")).length;
}

/** A text's lines; the newline ending the last line does not start another. */
function lines(text: string): string[] {
  const split = text.split("\n");
  if (split.at(-1) === "") split.pop();
  return split;
}
