import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { outputKeys } from '../cdk/bank-stack';
import { readDbState } from '../shared/audit/db-reader';
import { type S3Api, S3Client, s3Api, s3Bucket } from '../shared/audit/s3-bucket';
import { dataApiSession } from '../shared/audit/sessions';
import { type VerifyReport, verifySeals } from '../shared/audit/verify';
import * as z from '../shared/zod';

/**
 * `npm run audit:verify -- --stack`: the deployed bank, from the outputs `npm run deploy` wrote.
 * The database is read through the Data API with the read-only auditor secret (that role can
 * only SELECT); the bucket is read version by version. Needs AWS credentials allowed
 * rds-data:BeginTransaction/ExecuteStatement/RollbackTransaction on the cluster,
 * secretsmanager:GetSecretValue on the auditor secret, s3:ListBucketVersions and
 * s3:GetObjectVersion on the log bucket.
 *
 *   BANK_STACK_NAME    stack in cdk.outputs.json (default: the only one there)
 *   BANK_OUTPUTS_FILE  outputs file (default: ./cdk.outputs.json)
 */
export const auditorOutputKey = outputKeys.dbAuditorSecretArn;

const arn = z.string().check(z.startsWith('arn:'));
const stackOutputsSchema = z.object({
  DbClusterArn: arn,
  DbName: z.string().check(z.minLength(1)),
  LogBucketName: z.string().check(z.minLength(3)),
  [auditorOutputKey]: arn,
});
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

export class StackOutputsError extends Error {
  override name = 'StackOutputsError';
}

export function readStackOutputs(file: string, stackName?: string): StackOutputs {
  let all: unknown;
  try {
    all = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new StackOutputsError(
      `${file} cannot be read: deploy first (npm run deploy writes it), or set BANK_OUTPUTS_FILE`,
    );
  }
  const stacks = z.record(z.string(), z.unknown()).safeParse(all).data ?? {};
  const names = Object.keys(stacks);
  const name = stackName ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined)
    throw new StackOutputsError(`${file} holds ${names.length} stacks: set BANK_STACK_NAME`);
  const parsed = stackOutputsSchema.safeParse(stacks[name]);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new StackOutputsError(`stack ${name} in ${file} lacks valid outputs: ${missing}`);
  }
  return parsed.data;
}

export async function verifyStack(
  outputs: StackOutputs,
  rds: RDSDataClient,
  s3: S3Api,
): Promise<VerifyReport> {
  const db = await readDbState(
    dataApiSession({
      client: rds,
      resourceArn: outputs.DbClusterArn,
      secretArn: outputs[auditorOutputKey],
      database: outputs.DbName,
    }),
  );
  return verifySeals(s3Bucket(s3, outputs.LogBucketName), db);
}

export async function verifyDeployedStack(): Promise<VerifyReport> {
  const outputs = readStackOutputs(
    path.resolve(process.env.BANK_OUTPUTS_FILE ?? 'cdk.outputs.json'),
    process.env.BANK_STACK_NAME,
  );
  const region = outputs.DbClusterArn.split(':')[3];
  const clients = region ? { region } : {};
  return verifyStack(outputs, new RDSDataClient(clients), s3Api(new S3Client(clients)));
}
