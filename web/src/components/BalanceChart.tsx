import type { Entry } from '../api/client';
import { formatMoney, fromCents, toCents } from '../money';

const W = 640;
const H = 200;
const PAD = { left: 8, right: 8, top: 12, bottom: 12 };

/**
 * The balance over time, from the ledger entries' `balanceAfter`: an SVG line, styled only by
 * classes (no inline styles under the CSP). Cents become coordinates only here, for drawing.
 */
export function BalanceChart({ entries }: { readonly entries: readonly Entry[] }) {
  const points = [...entries]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((e) => ({
      id: e.entryId,
      t: Date.parse(e.createdAt),
      cents: toCents(e.balanceAfter) ?? 0n,
      label: e.balanceAfter,
    }));
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return null;
  let min = first.cents;
  let max = first.cents;
  for (const p of points) {
    if (p.cents < min) min = p.cents;
    if (p.cents > max) max = p.cents;
  }
  if (min > 0n) min = 0n;
  const span = max - min === 0n ? 1n : max - min;
  const t0 = first.t;
  const tSpan = last.t - t0 || 1;
  const x = (t: number) =>
    points.length === 1 ? W / 2 : PAD.left + ((t - t0) / tSpan) * (W - PAD.left - PAD.right);
  // Scaled in bigint (per-mille of the height), then to a pixel.
  const y = (cents: bigint) => {
    const perMille = Number(((cents - min) * 1000n) / span);
    return H - PAD.bottom - (perMille / 1000) * (H - PAD.top - PAD.bottom);
  };
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.cents).toFixed(1)}`)
    .join(' ');
  const description = `Balance from ${formatMoney(first.label)} to ${formatMoney(last.label)} over ${points.length} entries; highest ${formatMoney(
    fromCents(max),
  )}.`;
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
        <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={y(min)} y2={y(min)} />
        <path className="line" d={path} />
        {points.map((p) => (
          <circle key={p.id} className="dot" cx={x(p.t)} cy={y(p.cents)} r={3} />
        ))}
      </svg>
      <figcaption>
        Balance over time (shown entries): {formatMoney(first.label)} → {formatMoney(last.label)}
      </figcaption>
    </figure>
  );
}
