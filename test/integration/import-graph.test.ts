/**
 * The source tree's import graph has no cycles, between files or between top-level folders of src/
 * (each folder is one concern: `environment` reads Flox's formats and may use `nix`, never the other
 * way round). A cycle is where two modules start to own one rule between them.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { repoRoot } from "../harness/repo-root.js";

const SRC = join(repoRoot(), "src");

/** Every non-test `.ts` file under src/, relative to src/. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [relative(SRC, path)] : [];
  });
}

/** The relative imports and re-exports of one file, as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\b[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)) {
    const target = match[1] ?? "";
    found.push(normalize(join(dirname(file), target)).replace(/\.js$/, ".ts"));
  }
  return found;
}

/** The cycles of a graph, each as the list of nodes around it (one per strongly connected part). */
export function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

describe("the import graph of src/", () => {
  const files = new Map(sourceFiles().map((file) => [file, new Set(importsOf(file))]));

  it("finds the cycles it is meant to find", () => {
    const graph = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
      ["d", new Set(["a"])],
    ]);
    assert.deepEqual(cyclesOf(graph), [["a", "b", "c", "a"]]);
  });

  it("has no cycle between files", () => {
    assert.ok(files.size > 100, `read only ${files.size} files under ${SRC}`);
    assert.deepEqual(cyclesOf(files), []);
  });

  it("has no cycle between the folders of src/", () => {
    const folders = new Map<string, Set<string>>();
    const folderOf = (file: string): string => file.split("/")[0] ?? file;
    for (const [file, imports] of files) {
      const from = folderOf(file);
      const edges = folders.get(from) ?? new Set<string>();
      for (const target of imports) if (folderOf(target) !== from) edges.add(folderOf(target));
      folders.set(from, edges);
    }
    assert.deepEqual(cyclesOf(folders), []);
  });
});
