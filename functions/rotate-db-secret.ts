import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { dataApiExecutor } from '../shared/db/data-api-executor';
import { logger } from '../shared/logger';
import { type RotationEvent, rotate } from '../shared/rotation/rotation';
import { secretsManagerStore } from '../shared/rotation/secrets-manager-store';
import { dbRoleStrategy } from '../shared/rotation/strategies';
import * as z from '../shared/zod';

/**
 * Secrets Manager rotation of the database role secrets, entirely over the Data API (no VPC, no
 * network path to the cluster): the schema owner sets the new password, a probe secret proves
 * it logs in, then AWSCURRENT moves. Between setSecret and finishSecret (seconds) new Data API
 * connections of that role would be refused; open ones keep working.
 */
const env = z
  .object({
    AWS_REGION: z.string().check(z.minLength(1)),
    BANK_DB_CLUSTER_ARN: z.string().check(z.startsWith('arn:')),
    BANK_DB_NAME: z.string().check(z.minLength(1)),
    BANK_DB_MASTER_SECRET_ARN: z.string().check(z.startsWith('arn:')),
    BANK_DB_ROTATION_PROBE_SECRET_ARN: z.string().check(z.startsWith('arn:')),
  })
  .parse(process.env);

const sm = new SecretsManagerClient({ region: env.AWS_REGION });
const rds = new RDSDataClient({ region: env.AWS_REGION });
const store = secretsManagerStore(sm);
const target = (secretArn: string) => ({
  client: rds,
  resourceArn: env.BANK_DB_CLUSTER_ARN,
  secretArn,
  database: env.BANK_DB_NAME,
});

const strategy = dbRoleStrategy({
  owner: dataApiExecutor(target(env.BANK_DB_MASTER_SECRET_ARN)),
  probe: async (credentials) => {
    await store.putCurrent(env.BANK_DB_ROTATION_PROBE_SECRET_ARN, JSON.stringify(credentials));
    return dataApiExecutor(target(env.BANK_DB_ROTATION_PROBE_SECRET_ARN));
  },
  clearProbe: () =>
    store.putCurrent(env.BANK_DB_ROTATION_PROBE_SECRET_ARN, JSON.stringify({ cleared: true })),
});

export const handler = async (event: RotationEvent): Promise<void> => {
  logger.info('rotation step', { step: event.Step, secretId: event.SecretId });
  await rotate(event, store, strategy);
};
