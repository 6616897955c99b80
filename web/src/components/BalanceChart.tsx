import type { Entry } from '../api/client';
import { formatMoney, fromCents, toCents } from '../money';

const W = 640;
const H = 200;
const PAD = 12;

/**
 * The running balance over the shown entries, oldest to newest: an SVG line from the
 * balance before the first entry to `balanceAfter` of each. Styled only by classes (no inline
 * styles under the CSP). Money is bigint cents; it becomes a number only as a pixel position.
 */
export function BalanceChart({ entries }: { readonly entries: readonly Entry[] }) {
  const sorted = [...entries].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (!first || !last) return null;
  const firstAmount = toCents(first.amount) ?? 0n;
  const credit = first.type === 'DEPOSIT' || first.type === 'TRANSFER_IN';
  const start = (toCents(first.balanceAfter) ?? 0n) - (credit ? firstAmount : -firstAmount);
  const balances = [start, ...sorted.map((e) => toCents(e.balanceAfter) ?? 0n)];
  let min = 0n;
  let max = 0n;
  for (const b of balances) {
    if (b < min) min = b;
    if (b > max) max = b;
  }
  const span = max - min === 0n ? 1n : max - min;
  const x = (i: number) => PAD + (i / (balances.length - 1)) * (W - 2 * PAD);
  const y = (cents: bigint) => H - PAD - (Number(((cents - min) * 10_000n) / span) / 10_000) * (H - 2 * PAD);
  let d = `M${x(0).toFixed(1)},${y(start).toFixed(1)}`;
  balances.forEach((b, i) => {
    if (i === 0) return;
    d += ` L${x(i).toFixed(1)},${y(b).toFixed(1)}`;
  });
  const description = `From ${formatMoney(fromCents(start))} before the first shown entry to ${formatMoney(
    last.balanceAfter,
  )} after the last; highest ${formatMoney(fromCents(max))}.`;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        preserveAspectRatio="none"
      >
        <title id="chart-title">Balance over time</title>
        <desc id="chart-desc">{description}</desc>
        <line className="axis" x1={PAD} x2={W - PAD} y1={y(0n)} y2={y(0n)} />
        <path className="line" d={d} />
      </svg>
      <figcaption>
        Balance over the shown entries: {formatMoney(fromCents(start))} → {formatMoney(last.balanceAfter)}{' '}
        (highest {formatMoney(fromCents(max))})
      </figcaption>
    </figure>
  );
}
