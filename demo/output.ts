/** What the demo prints while it works: a line, and a step with its duration. */

export const say = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};

/** One step: its title now, "done in …" when it ends. */

export async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  process.stdout.write(`==> ${title} …\n`);
  const began = Date.now();
  const result = await work();
  say(`    done in ${seconds(Date.now() - began)}`);
  return result;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
