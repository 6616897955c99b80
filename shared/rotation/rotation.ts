/**
 * Secrets Manager rotation, the four steps AWS calls a rotation function with, over injected
 * ports: the secret store (Secrets Manager in the cloud, an in-memory fake with the same
 * version-stage rules in tests) and a strategy that knows what the secret opens (a database
 * role's password, the JWT signing key). The step logic follows AWS's rotation templates:
 * every step may be retried and must be idempotent.
 */

export const rotationSteps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof rotationSteps)[number];

export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/** The Secrets Manager calls a rotation makes (a subset of its API, with its semantics). */
export interface SecretStore {
  /** Version id -> stages; undefined when rotation is off for the secret. */
  versions(
    secretId: string,
  ): Promise<{ readonly rotationEnabled: boolean; readonly stages: Record<string, readonly string[]> }>;
  /** The value of a version (by id) or of the version holding a stage; undefined when there is none. */
  value(
    secretId: string,
    which: { readonly versionId?: string; readonly stage?: string },
  ): Promise<string | undefined>;
  /** PutSecretValue with this ClientRequestToken, staged AWSPENDING. */
  putPending(secretId: string, token: string, value: string): Promise<void>;
  /** UpdateSecretVersionStage: move `stage` to `toVersion`, taking it off `fromVersion`. */
  moveStage(
    secretId: string,
    stage: string,
    toVersion: string | undefined,
    fromVersion: string | undefined,
  ): Promise<void>;
  /** PutSecretValue as a new AWSCURRENT version (the probe secret only). */
  putCurrent(secretId: string, value: string): Promise<void>;
  randomPassword(length: number): Promise<string>;
}

export interface RotationStrategy {
  /** The next value, derived from the current one (e.g. same user name, new password). */
  create(current: string, store: SecretStore): Promise<string>;
  /** Makes the system the secret opens accept the pending value. */
  set(pending: string, current: string): Promise<void>;
  /** Proves the pending value works, or throws (rotation stops; AWSCURRENT stays as it was). */
  test(pending: string): Promise<void>;
}

export class RotationError extends Error {
  override name = 'RotationError';
}

export async function rotate(
  event: RotationEvent,
  store: SecretStore,
  strategy: RotationStrategy,
): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  if (!rotationSteps.includes(step)) throw new RotationError(`unknown rotation step ${String(step)}`);
  const { rotationEnabled, stages } = await store.versions(secretId);
  if (!rotationEnabled) throw new RotationError(`rotation is not enabled on ${secretId}`);
  const tokenStages = stages[token];
  if (tokenStages === undefined) throw new RotationError(`version ${token} of ${secretId} has no stage`);
  if (tokenStages.includes('AWSCURRENT')) return; // already rotated: every step is a no-op
  if (!tokenStages.includes('AWSPENDING')) throw new RotationError(`version ${token} is not AWSPENDING`);

  const current = await store.value(secretId, { stage: 'AWSCURRENT' });
  if (current === undefined) throw new RotationError(`${secretId} has no AWSCURRENT value`);
  switch (step) {
    case 'createSecret': {
      const existing = await store.value(secretId, { versionId: token, stage: 'AWSPENDING' });
      if (existing !== undefined) return;
      await store.putPending(secretId, token, await strategy.create(current, store));
      return;
    }
    case 'setSecret':
      await strategy.set(await pendingValue(store, secretId, token), current);
      return;
    case 'testSecret':
      await strategy.test(await pendingValue(store, secretId, token));
      return;
    case 'finishSecret': {
      const currentVersion = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await store.moveStage(secretId, 'AWSCURRENT', token, currentVersion);
      await store.moveStage(secretId, 'AWSPENDING', undefined, token);
      return;
    }
  }
}

async function pendingValue(store: SecretStore, secretId: string, token: string): Promise<string> {
  const pending = await store.value(secretId, { versionId: token, stage: 'AWSPENDING' });
  if (pending === undefined) throw new RotationError(`${secretId} has no AWSPENDING value for ${token}`);
  return pending;
}
