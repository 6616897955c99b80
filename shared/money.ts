/**
 * Money is integer minor units (cents) as bigint; on the wire a decimal string. No binary
 * floating point touches an amount anywhere between the request and the database.
 */
export const amountPattern = /^(0|[1-9][0-9]{0,12})(\.[0-9]{1,2})?$/;
/** "1000000000.00": the most one operation may move. */
export const amountMinorMax = 100_000_000_000n;

export class AmountError extends Error {
  override name = 'AmountError';
}

/** Parses an API amount string into minor units; throws AmountError on any other form. */
export function parseAmountMinor(text: string): bigint {
  const match = amountPattern.exec(text);
  if (!match) throw new AmountError('amount must be a decimal string like "12.50"');
  const whole = BigInt(match[1] ?? '0');
  const fraction = (match[2] ?? '').slice(1).padEnd(2, '0');
  const minor = whole * 100n + BigInt(fraction === '' ? '0' : fraction);
  if (minor <= 0n) throw new AmountError('amount must be greater than 0');
  if (minor > amountMinorMax) throw new AmountError('amount must be at most 1000000000.00');
  return minor;
}

/** Minor units to the API's decimal string with exactly two fraction digits. */
export function formatMinor(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}
