import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseResumingException, ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { hashSecret } from '../../shared/auth/passwords';
import { passwordSchema, usernameSchema } from '../../shared/schemas';
import { outputKeys } from '../bank-stack';
import { promptHidden, UsageError } from './prompt';

/**
 * `npm run admin:create`: creates the first admin of a deployed bank.
 *
 * Reads the stack outputs that `npm run deploy` wrote to cdk.outputs.json and calls the
 * owner-only SQL function `bank_create_user` through the RDS Data API with the schema owner's
 * (master) secret. The password is hashed here with bcrypt; neither it nor the hash is printed.
 * Needs AWS credentials that may call rds-data:ExecuteStatement on the cluster and
 * secretsmanager:GetSecretValue on the master secret (an account administrator).
 *
 *   BANK_ADMIN_USERNAME   admin user name (default: admin)
 *   BANK_ADMIN_PASSWORD   its password (10..128 characters); prompted for when unset
 *   BANK_STACK_NAME       stack in cdk.outputs.json (default: the only one there)
 *   BANK_OUTPUTS_FILE     outputs file (default: ./cdk.outputs.json)
 *   AWS_ENDPOINT_URL      e.g. http://localhost.localstack.cloud:4566 for LocalStack
 *
 * `npm run admin:reset:stack -- --username <name>` (this script with `--reset`) is the offline
 * recovery of a lost password: the owner-only `bank_admin_reset` sets a new password for an
 * existing user of any role, enables it and ends every session of theirs.
 */

/** `--reset` and `--username <name>` (the latter overrides BANK_ADMIN_USERNAME). */
function parseArgs(argv: readonly string[]): { reset: boolean; username: string | undefined } {
  let reset = false;
  let username: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--reset') reset = true;
    else if (arg === '--username') username = argv[++i];
    else throw new UsageError(`unknown argument ${arg ?? ''}`);
  }
  return { reset, username };
}

interface StackOutputs {
  readonly stackName: string;
  readonly apiUrl: string | undefined;
  readonly clusterArn: string;
  readonly masterSecretArn: string;
  readonly database: string;
}

function readOutputs(): StackOutputs {
  const file = path.resolve(process.env.BANK_OUTPUTS_FILE ?? 'cdk.outputs.json');
  if (!existsSync(file)) {
    throw new UsageError(
      `${file} not found: deploy first (npm run deploy writes it), or set BANK_OUTPUTS_FILE`,
    );
  }
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  const candidates = Object.keys(all).filter((name) => all[name]?.[outputKeys.dbClusterArn]);
  const stackName = process.env.BANK_STACK_NAME ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!stackName) {
    throw new UsageError(
      `set BANK_STACK_NAME to one of: ${candidates.join(', ') || '(no bank stack in the file)'}`,
    );
  }
  const outputs = all[stackName];
  const clusterArn = outputs?.[outputKeys.dbClusterArn];
  const masterSecretArn = outputs?.[outputKeys.dbMasterSecretArn];
  if (!outputs || !clusterArn || !masterSecretArn) {
    throw new UsageError(
      `${file} has no ${outputKeys.dbClusterArn}/${outputKeys.dbMasterSecretArn} for ${stackName}`,
    );
  }
  return {
    stackName,
    apiUrl: outputs[outputKeys.apiUrl],
    clusterArn,
    masterSecretArn,
    database: outputs[outputKeys.dbName] ?? 'bank',
  };
}

async function choosePassword(): Promise<string> {
  const fromEnv = process.env.BANK_ADMIN_PASSWORD;
  const password = fromEnv ?? (await promptHidden('New password (10..128 characters): '));
  const checked = passwordSchema.safeParse(password);
  if (!checked.success)
    throw new UsageError(`password ${checked.error.issues[0]?.message ?? 'is not valid'}`);
  if (fromEnv === undefined && (await promptHidden('Repeat the password: ')) !== password) {
    throw new UsageError('the passwords differ');
  }
  return password;
}

/** A paused Aurora Serverless v2 writer answers DatabaseResumingException until it is up. */
async function executeWhenAwake(client: RDSDataClient, command: ExecuteStatementCommand) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return await client.send(command);
    } catch (error) {
      if (!(error instanceof DatabaseResumingException) || Date.now() > deadline) throw error;
      console.log('the database is resuming from auto-pause; retrying in 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const outputs = readOutputs();
  const username = args.username ?? process.env.BANK_ADMIN_USERNAME ?? 'admin';
  const checkedName = usernameSchema.safeParse(username);
  if (!checkedName.success)
    throw new UsageError(`BANK_ADMIN_USERNAME ${checkedName.error.issues[0]?.message}`);
  const password = await choosePassword();
  const hash = await hashSecret(password);

  // arn:aws:rds:<region>:<account>:cluster:<id>
  const region = outputs.clusterArn.split(':')[3];
  const client = new RDSDataClient({ region });
  if (args.reset) {
    const reset = await executeWhenAwake(
      client,
      new ExecuteStatementCommand({
        resourceArn: outputs.clusterArn,
        secretArn: outputs.masterSecretArn,
        database: outputs.database,
        sql: 'SELECT bank_admin_reset(:username, :hash)',
        parameters: [
          { name: 'username', value: { stringValue: username } },
          { name: 'hash', value: { stringValue: hash } },
        ],
      }),
    );
    if (reset.records?.[0]?.[0]?.booleanValue !== true) throw new UsageError(`no user "${username}"`);
    console.log(
      `Set a new password for "${username}" in ${outputs.stackName}; every session of theirs ended.`,
    );
    return;
  }
  const result = await executeWhenAwake(
    client,
    new ExecuteStatementCommand({
      resourceArn: outputs.clusterArn,
      secretArn: outputs.masterSecretArn,
      database: outputs.database,
      sql: 'SELECT bank_create_user(:username, :hash, :role)',
      parameters: [
        { name: 'username', value: { stringValue: username } },
        { name: 'hash', value: { stringValue: hash } },
        { name: 'role', value: { stringValue: 'admin' } },
      ],
    }),
  );
  const created = result.records?.[0]?.[0]?.booleanValue;
  if (created === true) {
    console.log(`Created admin "${username}" in ${outputs.stackName}.`);
  } else if (created === false) {
    console.log(`User "${username}" already exists in ${outputs.stackName}; nothing was changed.`);
  } else {
    throw new Error('bank_create_user returned no result');
  }
  if (outputs.apiUrl) {
    console.log(`Log in: curl -sX POST ${outputs.apiUrl}/auth/login -H 'content-type: application/json' \\`);
    console.log(`  -d '{"username":"${username}","password":"<the password>"}'`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`admin: ${error.message}`);
  } else if (error instanceof Error) {
    console.error(`admin:create failed: ${error.name}: ${error.message}`);
  } else {
    console.error('admin:create failed', error);
  }
  process.exitCode = 1;
});
