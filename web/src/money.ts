/**
 * Money in the console: decimal strings from the API, bigint minor units (cents) for anything
 * computed, and Intl.NumberFormat on the string itself for display. Never a binary float.
 */
const amountPattern = /^(0|[1-9][0-9]{0,12})(\.[0-9]{1,2})?$/;
const decimalPattern = /^-?[0-9]+(\.[0-9]{1,2})?$/;

const formatter = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** `"1234.5"` → `"1,234.50"` in the reader's locale; exact for any length. */
export function formatMoney(decimal: string): string {
  if (!decimalPattern.test(decimal)) return decimal;
  return formatter.format(decimal as Intl.StringNumericLiteral);
}

/** A decimal string with at most two fraction digits → cents, or undefined. */
export function toCents(decimal: string): bigint | undefined {
  const text = decimal.trim();
  if (!decimalPattern.test(text)) return undefined;
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace('-', '').split('.');
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return negative ? -cents : cents;
}

/** Cents → the API's decimal string (`"12.05"`). */
export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** Whether the text is an amount the API would take (the schema is the judge; this only guides). */
export function isAmount(text: string): boolean {
  return amountPattern.test(text.trim()) && (toCents(text) ?? 0n) > 0n;
}

/** The amount as the API wants it: trimmed, with two fraction digits. */
export function normalizeAmount(text: string): string {
  const cents = toCents(text);
  return cents === undefined ? text.trim() : fromCents(cents);
}
