import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from './rotation';

/** The rotation's secret store on Secrets Manager itself. */
export function secretsManagerStore(sm: SecretsManagerClient): SecretStore {
  return {
    async versions(secretId) {
      const out = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
      return { rotationEnabled: out.RotationEnabled === true, stages: out.VersionIdsToStages ?? {} };
    },
    async value(secretId, which) {
      try {
        const out = await sm.send(
          new GetSecretValueCommand({
            SecretId: secretId,
            VersionId: which.versionId,
            VersionStage: which.stage,
          }),
        );
        return out.SecretString;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },
    async putPending(secretId, token, value) {
      await sm.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: token,
          SecretString: value,
          VersionStages: ['AWSPENDING'],
        }),
      );
    },
    async moveStage(secretId, stage, toVersion, fromVersion) {
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          MoveToVersionId: toVersion,
          RemoveFromVersionId: fromVersion,
        }),
      );
    },
    async putCurrent(secretId, value) {
      await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    },
    async randomPassword(length) {
      const out = await sm.send(
        new GetRandomPasswordCommand({
          PasswordLength: length,
          ExcludePunctuation: true,
          IncludeSpace: false,
        }),
      );
      if (!out.RandomPassword) throw new Error('GetRandomPassword returned nothing');
      return out.RandomPassword;
    },
  };
}
