import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type DbRole, dbRoles } from '../../shared/auth/db-roles';
import { acknowledge } from '../nag';
import { ManagedPolicyRole } from './managed-policy-role';

export const databaseName = 'bank';
/** Owner of the schema; the migration runner connects as this (the cluster's master user). */
export const masterUsername = 'bank_owner';

/** Actions a function needs to run SQL through the Data API (resource: this cluster only). */
export const dataApiActions = [
  'rds-data:ExecuteStatement',
  'rds-data:BatchExecuteStatement',
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:RollbackTransaction',
];

export interface BankDatabaseProps {
  /** Aurora capacity units; 0 lets the writer pause after 5 idle minutes (auto-pause). */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** The bank's key: the secrets, the flow log and the database log are encrypted with it. */
  readonly key: kms.IKey;
  readonly logRetention: logs.RetentionDays;
}

/**
 * What the database writes to its log (exported to CloudWatch Logs): schema changes (DDL) and
 * errors with the statement that caused them, never a bound parameter's value. A PIN or a
 * password travels only as a Data API parameter, so with both parameter lengths at 0 it can
 * reach neither the statement log nor an error's context. Ordinary statements (SELECT, DML) are
 * not logged: the audit trail of who did what is the audit_logs table and its seals.
 */
export const databaseLogParameters = {
  log_statement: 'ddl',
  log_min_error_statement: 'error',
  log_parameter_max_length: '0',
  log_parameter_max_length_on_error: '0',
} as const;

/**
 * Aurora PostgreSQL Serverless v2 with the Data API, in a VPC of isolated subnets only (no NAT,
 * no internet gateway: nothing in the VPC needs to leave it; Lambda reaches the database through
 * the Data API's HTTPS endpoint). One Secrets Manager secret per login role.
 *
 * The cluster, its master secret and the role secrets are retained when the stack is deleted:
 * a bank does not lose its ledger, or the credentials to read it, to a `cdk destroy`.
 */
export class BankDatabase extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: rds.DatabaseCluster;
  readonly masterSecret: secretsmanager.ISecret;
  readonly roleSecrets: Readonly<Record<DbRole, secretsmanager.ISecret>>;
  /** The read-only bank_auditor login (migration 0006), for `npm run audit:verify -- --stack`. */
  readonly auditorSecret: secretsmanager.ISecret;
  readonly databaseLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BankDatabaseProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    // Every flow in or out of the database's subnets (rejected ones included): PCI DSS 10.x asks for
    // it, and in a VPC where only Aurora lives it is a few log lines a day.
    this.vpc.addFlowLog('FlowLog', {
      trafficType: ec2.FlowLogTrafficType.ALL,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, encryptionKey: props.key }),
        new ManagedPolicyRole(this, 'FlowLogRole', {
          assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
          description: 'Writes the VPC flow log to its log group',
        }),
      ),
    });

    const masterSecret = new rds.DatabaseSecret(this, 'MasterSecret', {
      username: masterUsername,
      dbname: databaseName,
      encryptionKey: props.key,
    });
    masterSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledge(
      masterSecret,
      'AwsSolutions-SMG4',
      "Not rotated automatically yet: the schema owner's secret is used only by the deploy-time migration trigger and the admin bootstrap script, never on the request path. Rotating it over the Data API needs an owner-only SQL function that sets the owner's own password from a bound parameter (an ALTER ROLE with the password inline would reach the DDL statement log); until that migration exists, rotate it by hand (new value in the secret, then the same ALTER ROLE through that function).",
    );
    this.masterSecret = masterSecret;

    // 16.x with auto-pause support (scale to 0 ACU needs Aurora PostgreSQL 16.3 or later).
    const engine = rds.DatabaseClusterEngine.auroraPostgres({
      version: rds.AuroraPostgresEngineVersion.VER_16_8,
    });
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine,
      credentials: rds.Credentials.fromSecret(masterSecret),
      defaultDatabaseName: databaseName,
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: props.minCapacity,
      serverlessV2MaxCapacity: props.maxCapacity,
      enableDataApi: true,
      storageEncrypted: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      backup: { retention: Duration.days(7) },
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        description: 'Bank cluster: DDL and errors to the log, never a parameter value',
        parameters: { ...databaseLogParameters },
      }),
      cloudwatchLogsExports: ['postgresql'],
    });
    acknowledge(
      this.cluster,
      'AwsSolutions-RDS6',
      'IAM database authentication is unused by design: every caller reaches the database through the RDS Data API, which authenticates with a Secrets Manager secret per PostgreSQL role (IAM decides who may read which secret and call the Data API on this cluster).',
    );

    // The exported log's group, created here so that it is encrypted with the bank's key and
    // kept for the retention period (RDS would otherwise create it unencrypted, kept forever).
    // The writer waits for it: RDS starts exporting when the instance first writes its log.
    this.databaseLogs = new logs.LogGroup(this, 'PostgresqlLogs', {
      logGroupName: `/aws/rds/cluster/${this.cluster.clusterIdentifier}/postgresql`,
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const instance of this.cluster.node.findAll()) {
      if (instance instanceof rds.CfnDBInstance) instance.node.addDependency(this.databaseLogs);
    }

    this.roleSecrets = Object.fromEntries(
      dbRoles.map((role) => [role, this.roleSecret(role, props.key)]),
    ) as Record<DbRole, secretsmanager.ISecret>;
    this.auditorSecret = this.roleSecret('bank_auditor', props.key);
    acknowledge(
      this.auditorSecret,
      'AwsSolutions-SMG4',
      "The read-only auditor's password (SELECT on the sealed tables, nothing else) is set from this secret by the migrate function at every deploy; the rotation function changes only the application roles' passwords (bank_set_role_password admits no other role), so this one is rotated by replacing the secret and redeploying.",
    );
  }

  private roleSecret(role: DbRole | 'bank_auditor', key: kms.IKey): secretsmanager.ISecret {
    const secret = new secretsmanager.Secret(this, `${pascalCase(role)}Secret`, {
      description: `Aurora login of PostgreSQL role ${role} (used through the RDS Data API)`,
      generateSecretString: {
        // The Data API reads username and password; the attachment below adds engine, host,
        // port and dbClusterIdentifier, the shape Secrets Manager expects of an RDS secret.
        secretStringTemplate: JSON.stringify({ username: role, dbname: databaseName }),
        generateStringKey: 'password',
        passwordLength: 40,
        excludePunctuation: true,
      },
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    secret.attach(this.cluster);
    return secret;
  }

  /**
   * Data API on this cluster and read access to exactly `secrets` (the Data API fetches the
   * secret passed as `secretArn` with the caller's permissions).
   */
  grantDataApi(grantee: iam.IGrantable, secrets: readonly secretsmanager.ISecret[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: dataApiActions, resources: [this.cluster.clusterArn] }),
    );
    if (secrets.length > 0) grantSecretValues(grantee, secrets);
  }
}

export function grantSecretValues(grantee: iam.IGrantable, secrets: readonly secretsmanager.ISecret[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: secrets.map((s) => s.secretArn),
    }),
  );
}

export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
