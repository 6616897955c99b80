import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DbRole } from '../../shared/auth/db-roles';

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
}

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

  constructor(scope: Construct, id: string, props: BankDatabaseProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });

    const masterSecret = new rds.DatabaseSecret(this, 'MasterSecret', {
      username: masterUsername,
      dbname: databaseName,
    });
    masterSecret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.masterSecret = masterSecret;

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      // 16.x with auto-pause support (scale to 0 ACU needs Aurora PostgreSQL 16.3 or later).
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_8 }),
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
    });

    this.roleSecrets = {
      bank_customer: this.roleSecret('bank_customer'),
      bank_teller: this.roleSecret('bank_teller'),
      bank_admin: this.roleSecret('bank_admin'),
      bank_auth: this.roleSecret('bank_auth'),
    };
    this.auditorSecret = this.roleSecret('bank_auditor');
  }

  private roleSecret(role: DbRole | 'bank_auditor'): secretsmanager.ISecret {
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
