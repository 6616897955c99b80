import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { bankMetricNames, bankMetricsNamespace, bankServiceName } from './metrics-names';

/**
 * The bank's figures as CloudWatch embedded metric format (EMF): one JSON log line per request
 * that recorded any, which CloudWatch turns into metrics with no API call and no agent. Locally
 * the same line goes to stdout and costs nothing; POWERTOOLS_METRICS_DISABLED=true silences it.
 * The middleware stack publishes what a request recorded (shared/middleware/stack.ts).
 */
export const metrics = new Metrics({ namespace: bankMetricsNamespace, serviceName: bankServiceName });

export type MovementKind = 'deposit' | 'withdrawal' | 'transfer';

/** A completed movement of `amountMinor` cents. */
export function countMovement(kind: MovementKind, amountMinor: bigint): void {
  // Metric values are doubles; cents stay exact up to 2^53 (90 trillion units of currency).
  const figures = [
    [bankMetricNames.movements, 1],
    [bankMetricNames.amountMovedMinor, Number(amountMinor)],
  ] as const;
  for (const [name, value] of figures) {
    // A single-metric logger writes at once and then forgets its dimensions: one per figure, so
    // each carries `kind`, and `kind` stays off the request's other figures.
    const single = metrics.singleMetric();
    single.addDimension('kind', kind);
    single.addMetric(name, MetricUnit.Count, value);
  }
}

export function countPinLockout(): void {
  metrics.addMetric(bankMetricNames.pinLockouts, MetricUnit.Count, 1);
}

export function countRefusedLogin(): void {
  metrics.addMetric(bankMetricNames.refusedLogins, MetricUnit.Count, 1);
}

/** For the step-up feature (not built yet). */
export function countStepUpChallenge(): void {
  metrics.addMetric(bankMetricNames.stepUpChallenges, MetricUnit.Count, 1);
}

/** For the maker-checker feature (not built yet): the queue length after a change. */
export function reportApprovalsPending(count: number): void {
  metrics.addMetric(bankMetricNames.approvalsPending, MetricUnit.Count, count);
}

/** Writes what this request recorded, if anything (no line, and no warning, when nothing). */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
