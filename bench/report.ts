/** Plain-text output: aligned tables, number formats and target verdicts. */

export const int = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : String(value);

/** Two decimals below 10, one below 1 000, whole numbers above: enough digits to compare, no noise. */
export const num = (value: number): string => {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return int(value);
  return value.toFixed(Math.abs(value) < 10 ? 2 : 1);
};

export const ratio = (value: number): string =>
  Number.isFinite(value) ? `${value.toFixed(2)}×` : String(value);

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KB`;

/** Renders rows under headers; the first column is left-aligned, the others right-aligned. */
export function table(
  title: string,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [`\n## ${title}`, line(headers), rule, ...rows.map(line)].join('\n');
}

/** One target: what the spec asks, what was measured, and whether it holds. */
export interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

export function verdictTable(title: string, verdicts: readonly Verdict[]): string {
  return table(
    title,
    ['target', 'measured', 'result'],
    verdicts.map((v) => [v.target, v.measured, v.pass ? 'PASS' : 'FAIL']),
  );
}

export const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** Progress goes to stderr so stdout holds only the report. */
export const progress = (text: string): void => {
  process.stderr.write(`  … ${text}\n`);
};
