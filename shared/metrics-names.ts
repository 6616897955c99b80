/**
 * The bank's own CloudWatch metrics (EMF, written by shared/metrics.ts): names shared with the
 * alarms in cdk/, which must match them exactly. Plain constants, so cdk/ imports no Powertools.
 */
export const bankMetricsNamespace = 'Bank';
export const bankServiceName = 'bank';

export const bankMetricNames = {
  /** Completed deposits, withdrawals and transfers, with a `kind` dimension. */
  movements: 'Movements',
  /** Minor units (cents) moved by those movements, with the same `kind` dimension. */
  amountMovedMinor: 'AmountMovedMinor',
  /** A wrong PIN answered with a locked account (alarmed). */
  pinLockouts: 'PinLockouts',
  /** Logins refused for a wrong user name or password, or rate-limited (alarmed on a spike). */
  refusedLogins: 'RefusedLogins',
  /** Step-up challenges issued: the step-up feature does not exist yet; its code will count here. */
  stepUpChallenges: 'StepUpChallenges',
  /** Maker-checker approvals waiting: the feature does not exist yet; its code will report here. */
  approvalsPending: 'ApprovalsPending',
} as const;
