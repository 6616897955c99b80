import { randomInt, randomUUID } from 'node:crypto';
import type { SecretStore } from '../../shared/rotation/rotation';

interface Version {
  value: string | undefined;
  stages: Set<string>;
}

/**
 * Secrets Manager's version stages in memory, as the rotation sees them: RotateSecret attaches
 * AWSPENDING to a new version id (the ClientRequestToken) that has no value until createSecret
 * puts one; moving AWSCURRENT moves AWSPREVIOUS to the version that had it; a version left with
 * no stage is gone. Errors where Secrets Manager returns them (a stage removed from a version
 * that does not have it, a value put twice under one token with another value).
 */
export class FakeSecretStore implements SecretStore {
  private readonly secrets = new Map<string, { rotationEnabled: boolean; versions: Map<string, Version> }>();

  create(secretId: string, value: string, rotationEnabled = true): void {
    this.secrets.set(secretId, {
      rotationEnabled,
      versions: new Map([[randomUUID(), { value, stages: new Set(['AWSCURRENT']) }]]),
    });
  }

  /** What Secrets Manager does before it calls the function: a token staged AWSPENDING, no value. */
  startRotation(secretId: string): string {
    const token = randomUUID();
    this.secret(secretId).versions.set(token, { value: undefined, stages: new Set(['AWSPENDING']) });
    return token;
  }

  current(secretId: string): string | undefined {
    return [...this.secret(secretId).versions.values()].find((v) => v.stages.has('AWSCURRENT'))?.value;
  }

  private secret(secretId: string) {
    const secret = this.secrets.get(secretId);
    if (!secret) throw new Error(`ResourceNotFoundException: ${secretId}`);
    return secret;
  }

  async versions(secretId: string) {
    const secret = this.secret(secretId);
    return {
      rotationEnabled: secret.rotationEnabled,
      stages: Object.fromEntries([...secret.versions].map(([id, v]) => [id, [...v.stages]])),
    };
  }

  async value(secretId: string, which: { versionId?: string; stage?: string }) {
    const secret = this.secret(secretId);
    const version =
      which.versionId !== undefined
        ? secret.versions.get(which.versionId)
        : [...secret.versions.values()].find((v) => which.stage !== undefined && v.stages.has(which.stage));
    if (!version || (which.stage !== undefined && !version.stages.has(which.stage))) return undefined;
    return version.value;
  }

  async putPending(secretId: string, token: string, value: string) {
    const secret = this.secret(secretId);
    const version = secret.versions.get(token) ?? { value: undefined, stages: new Set<string>() };
    if (version.value !== undefined && version.value !== value)
      throw new Error('ResourceExistsException: a version with this token has another value');
    for (const v of secret.versions.values()) v.stages.delete('AWSPENDING');
    version.value = value;
    version.stages.add('AWSPENDING');
    secret.versions.set(token, version);
  }

  async moveStage(
    secretId: string,
    stage: string,
    toVersion: string | undefined,
    fromVersion: string | undefined,
  ) {
    const secret = this.secret(secretId);
    const from = fromVersion === undefined ? undefined : secret.versions.get(fromVersion);
    if (fromVersion !== undefined && !from?.stages.has(stage))
      throw new Error(`InvalidParameterException: ${stage} is not on version ${fromVersion}`);
    const to = toVersion === undefined ? undefined : secret.versions.get(toVersion);
    if (toVersion !== undefined && to === undefined) throw new Error(`no version ${toVersion}`);
    from?.stages.delete(stage);
    if (to) {
      for (const v of secret.versions.values()) v.stages.delete(stage);
      to.stages.add(stage);
      if (stage === 'AWSCURRENT' && from) {
        for (const v of secret.versions.values()) v.stages.delete('AWSPREVIOUS');
        from.stages.add('AWSPREVIOUS');
      }
    }
    for (const [id, v] of secret.versions) if (v.stages.size === 0) secret.versions.delete(id);
  }

  async putCurrent(secretId: string, value: string) {
    const secret = this.secret(secretId);
    const old = [...secret.versions.entries()].find(([, v]) => v.stages.has('AWSCURRENT'))?.[0];
    const id = randomUUID();
    secret.versions.set(id, { value, stages: new Set() });
    await this.moveStage(secretId, 'AWSCURRENT', id, old);
  }

  async randomPassword(length: number) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  }
}
