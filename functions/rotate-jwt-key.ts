import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { logger } from '../shared/logger';
import { type RotationEvent, rotate } from '../shared/rotation/rotation';
import { secretsManagerStore } from '../shared/rotation/secrets-manager-store';
import { jwtKeyStrategy } from '../shared/rotation/strategies';

/** Secrets Manager rotation of the JWT signing key (see jwtKeyStrategy for the overlap). */
const store = secretsManagerStore(new SecretsManagerClient({ region: process.env.AWS_REGION }));

export const handler = async (event: RotationEvent): Promise<void> => {
  logger.info('rotation step', { step: event.Step, secretId: event.SecretId });
  await rotate(event, store, jwtKeyStrategy);
};
