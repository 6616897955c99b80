/** Plain-text (markdown) tables for the benchmark report. */

export type Cell = string | number | undefined;

export function fmt(value: number | undefined, digits = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtInt(value: number | undefined): string {
  return fmt(value, 0);
}

export function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}

export function ratio(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return `${value.toFixed(digits)}×`;
}

/** A markdown table whose columns are padded to line up in a terminal too. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  align?: string,
): string {
  const text = rows.map((row) => headers.map((_, i) => String(row[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  // 'l' or 'r' per column; numbers read best right-aligned.
  const alignOf = (i: number) => align?.[i] ?? 'l';
  const pad = (s: string, i: number) =>
    alignOf(i) === 'r' ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (alignOf(i) === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...text.map(line)].join('\n');
}
