/** Small helpers every benchmark shares: timing, medians, and one line per figure. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(3));

/**
 * Prints one figure; with a baseline measured in the same run, also the ratio; with a target, whether it is
 * met. Nothing here asserts: benchmarks report.
 */
export function figure(
  name: string,
  value: number,
  unit: string,
  opts: { baseline?: { name: string; value: number }; target?: { max: number; unit?: string } } = {},
): void {
  let line = `${name.padEnd(58)} ${fmt(value).padStart(10)} ${unit}`;
  if (opts.baseline) {
    line += `   vs ${opts.baseline.name} ${fmt(opts.baseline.value)} ${unit} = ${(value / opts.baseline.value).toFixed(2)}x`;
  }
  if (opts.target) {
    const met = value <= opts.target.max;
    line += `   target <= ${opts.target.max}${opts.target.unit ?? ` ${unit}`}: ${met ? "met" : "NOT met"}`;
  }
  console.log(line);
}

export function section(title: string): void {
  console.log(`\n## ${title}`);
}
