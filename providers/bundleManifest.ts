/**
 * The trailing `-- ao-bundle:` manifest of a bundle (see bundle.ts): where each file's lines sit, so
 * that luaCheck, which sees only the code, reports an error as `file:line` in the original file.
 * Kept apart from the bundler: `check` runs in the provider host and needs only this.
 */
export const BUNDLE_MARKER = "-- ao-bundle: ";

export interface BundleSegment {
  /** Module name, or "" for the entry. */
  module: string;
  /** File label: the entry directory's name joined with the path relative to it, `/`-separated. */
  file: string;
  /** Bundle line on which the file's first line sits. */
  line: number;
  /** Number of lines of the file. */
  lines: number;
  /** Characters of generated header before the file's first line on that bundle line. */
  column: number;
}

/** Reads the segment table back from a bundle's trailing comment (for error mapping). */
export function readBundleManifest(code: string): { entry: string; segments: BundleSegment[] } | undefined {
  const at = code.lastIndexOf(`\n${BUNDLE_MARKER}`);
  if (at < 0) return undefined;
  const json = code.slice(at + 1 + BUNDLE_MARKER.length).split("\n")[0]!;
  try {
    const m = JSON.parse(json) as { entry: string; segments: BundleSegment[] };
    return Array.isArray(m.segments) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a 1-based bundle line to the original file and line, when it falls inside a file's lines. */
export function mapBundleLine(
  segments: BundleSegment[],
  line: number,
): { file: string; line: number } | undefined {
  for (const s of segments) {
    if (line >= s.line && line < s.line + s.lines) return { file: s.file, line: line - s.line + 1 };
  }
  return undefined;
}
