import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankStack, defaultSettings, settingsFromContext } from '../../cdk/bank-stack';
import { dataApiErrorNames } from '../../cdk/constructs/alarms';
import {
  bankEnvKeys,
  bundleBudgetBytes,
  entryFileOf,
  esbuildOptionsFor,
  migrationsDir,
  repoRoot,
} from '../../cdk/constructs/bank-function';
import { dataApiActions, masterUsername } from '../../cdk/constructs/database';
import { secretEnvKey } from '../../cdk/constructs/functions';
import { backgroundFunctions, routes } from '../../functions/routes';
import { type DbRole, dbRoles } from '../../shared/auth/db-roles';
import { dbRolesFor } from '../../shared/auth/policy';
import { apiContractRoutes } from '../helpers/api-contract';

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}
interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}
interface FunctionProps {
  readonly Runtime: string;
  readonly Architectures: string[];
  readonly Handler: string;
  readonly Timeout: number;
  readonly MemorySize: number;
  readonly Description: string;
  readonly Role: unknown;
  readonly LoggingConfig: { LogGroup: unknown };
  readonly Environment: { Variables: Record<string, unknown> };
}

const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Synthesizes the app as `cdk synth` would (cdk.json feature flags), optionally without bundling. */
function synth(options: { bundle: boolean; context?: Record<string, unknown>; outdir?: string }) {
  const app = new App({
    analyticsReporting: false,
    outdir: options.outdir,
    context: {
      ...cdkJson.context,
      // Skips esbuild for these assertions only; the snapshot test below bundles for real.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const stack = new BankStack(app, defaultSettings.stackName, { settings: settingsFromContext(app.node) });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as CfnTemplate };
}

const { stack, template, json } = synth({ bundle: false });
const resources = json.Resources;

function ofType(type: string): Array<[string, CfnResource]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}
function logicalIdOf(construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!(child instanceof CfnElement))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(child);
}
function resource(logicalId: string): CfnResource {
  const r = resources[logicalId];
  if (!r) throw new Error(`no resource ${logicalId}`);
  return r;
}
/** A resource property the test relies on; a missing one fails the test by name. */
function propOf<T>(r: CfnResource | undefined, key: string): T {
  const value = r?.Properties?.[key];
  if (value === undefined) throw new Error(`missing property ${key}`);
  return value as T;
}
function fnProps(logicalId: string): FunctionProps {
  return resource(logicalId).Properties as unknown as FunctionProps;
}
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every IAM statement attached to the role `roleLogicalId` (inline and through AWS::IAM::Policy). */
function statementsOfRole(roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  for (const [, policy] of [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]) {
    const roles = (policy.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
    if (roles.some((r) => r.Ref === roleLogicalId)) {
      statements.push(...propOf<{ Statement: Statement[] }>(policy, 'PolicyDocument').Statement);
    }
  }
  const inline = (resource(roleLogicalId).Properties?.Policies ?? []) as Array<{
    PolicyDocument: { Statement: Statement[] };
  }>;
  for (const p of inline) statements.push(...p.PolicyDocument.Statement);
  return statements;
}
function roleOf(fnLogicalId: string): string {
  const role = fnProps(fnLogicalId).Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}
function secretResourcesOf(fnLogicalId: string): string[] {
  return statementsOfRole(roleOf(fnLogicalId))
    .filter((s) => asArray(s.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => asArray(s.Resource as { Ref: string } | Array<{ Ref: string }>).map((r) => r.Ref))
    .sort();
}

const fns = stack.functions;
const routeFnIds = new Map(fns.routeFunctions.map(({ route, fn }) => [route.name, logicalIdOf(fn)]));
const ourFnIds = fns.all.map((fn) => logicalIdOf(fn));
const roleSecretIds: Record<DbRole, string> = {
  bank_customer: logicalIdOf(stack.database.roleSecrets.bank_customer),
  bank_teller: logicalIdOf(stack.database.roleSecrets.bank_teller),
  bank_admin: logicalIdOf(stack.database.roleSecrets.bank_admin),
  bank_auth: logicalIdOf(stack.database.roleSecrets.bank_auth),
};
const masterSecretId = logicalIdOf(stack.database.masterSecret);
const clusterId = logicalIdOf(stack.database.cluster);
const clusterArn = stack.resolve(stack.database.cluster.clusterArn);
const jwtSecretId =
  ofType('AWS::SecretsManager::Secret').find(([id]) => id.startsWith('JwtSigningKey'))?.[0] ?? '';

describe('the manifest', () => {
  it('has a handler file for every route and background function', () => {
    for (const { entry } of [...routes, ...backgroundFunctions])
      expect(() => entryFileOf(entry)).not.toThrow();
  });
});

describe('resource counts', () => {
  it('has one function per manifest entry, an API with one route each, one cluster, one bucket', () => {
    const functionCount = routes.length + backgroundFunctions.length;
    expect(ourFnIds).toHaveLength(functionCount);
    const bankFunctions = ofType('AWS::Lambda::Function').filter(
      ([, r]) =>
        (r.Properties as unknown as FunctionProps).Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'bank',
    );
    expect(bankFunctions).toHaveLength(functionCount);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', routes.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', routes.length);
    template.resourceCountIs('AWS::RDS::DBCluster', 1);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    // master, one per database role, the auditor's, the JWT signing key, the rotation's probe
    template.resourceCountIs('AWS::SecretsManager::Secret', 1 + dbRoles.length + 1 + 1 + 1);
    // every secret but the master, the auditor's and the probe rotates
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', dbRoles.length + 1);
    template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1 + dbRoles.length + 1);
    // the audit log bucket and its server access log bucket, the console's bucket and its
    // CloudFront access-log bucket
    template.resourceCountIs('AWS::S3::Bucket', 4);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    // No AWS managed policy and no inline policy on the roles of the bank's functions: one
    // customer-managed policy each. (CDK's own custom-resource providers, for the trigger and the
    // default security group, keep theirs; cdk-nag does not see those raw resources either.)
    for (const id of ourFnIds.map(roleOf)) {
      expect(resource(id).Properties?.ManagedPolicyArns, id).toBeUndefined();
      expect(resource(id).Properties?.Policies, id).toBeUndefined();
      expect(
        ofType('AWS::IAM::Policy').filter(([, p]) =>
          ((p.Properties?.Roles ?? []) as Array<{ Ref?: string }>).some((r) => r.Ref === id),
        ),
        id,
      ).toEqual([]);
    }
    template.resourceCountIs('Custom::Trigger', 1);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    // per function Errors and Throttles; API 5xx, Data API errors, dead letters, PIN lockouts, refused logins
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 * functionCount + 5);
    template.resourceCountIs('AWS::Logs::MetricFilter', functionCount);
    // No paid networking: no NAT gateway, no internet gateway, no public subnet.
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
  });
});

describe('Aurora PostgreSQL Serverless v2', () => {
  it('has the Data API, encryption, deletion protection and retention', () => {
    const [[, cluster]] = ofType('AWS::RDS::DBCluster') as [[string, CfnResource]];
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      DeletionProtection: true,
      DatabaseName: 'bank',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4 },
    });
    expect(String(cluster.Properties?.EngineVersion)).toMatch(/^16\.\d+$/);
    expect(cluster.DeletionPolicy).toBe('Retain');
    expect(cluster.UpdateReplacePolicy).toBe('Retain');
    const [[, writer]] = ofType('AWS::RDS::DBInstance') as [[string, CfnResource]];
    expect(writer.Properties).toMatchObject({
      DBInstanceClass: 'db.serverless',
      DBClusterIdentifier: { Ref: clusterId },
    });
    expect(writer.DeletionPolicy).toBe('Retain');
  });

  it('lives in isolated subnets only', () => {
    const subnets = ofType('AWS::EC2::Subnet');
    expect(subnets.length).toBeGreaterThanOrEqual(2);
    for (const [, subnet] of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(false);
    template.resourceCountIs('AWS::EC2::Route', 0);
    const [[, group]] = ofType('AWS::RDS::DBSubnetGroup') as [[string, CfnResource]];
    expect(
      propOf<unknown[]>(group, 'SubnetIds')
        .map((s) => JSON.stringify(s))
        .sort(),
    ).toEqual(subnets.map(([id]) => JSON.stringify({ Ref: id })).sort());
  });

  it('has a retained master secret and one retained secret per database role', () => {
    expect(resource(masterSecretId).DeletionPolicy).toBe('Retain');
    const masterTemplate = propOf<{ SecretStringTemplate: string }>(
      resource(masterSecretId),
      'GenerateSecretString',
    ).SecretStringTemplate;
    expect(JSON.parse(masterTemplate)).toMatchObject({ username: masterUsername });
    for (const role of dbRoles) {
      const secret = resource(roleSecretIds[role]);
      expect(secret.DeletionPolicy).toBe('Retain');
      expect(secret.Properties?.GenerateSecretString).toMatchObject({
        GenerateStringKey: 'password',
        ExcludePunctuation: true,
      });
      const generate = propOf<{ SecretStringTemplate: string }>(secret, 'GenerateSecretString');
      expect(JSON.parse(generate.SecretStringTemplate)).toEqual({ username: role, dbname: 'bank' });
      template.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
        SecretId: { Ref: roleSecretIds[role] },
        TargetId: { Ref: clusterId },
        TargetType: 'AWS::RDS::DBCluster',
      });
    }
  });
});

describe('the log bucket', () => {
  const bucketId = logicalIdOf(stack.logBucket.bucket);
  const bucket = resource(bucketId);

  it('is versioned, Object Lock COMPLIANCE for 7 years, fully private and retained', () => {
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 * 365 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(stack.key.key), 'Arn'] },
            },
          },
        ],
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(stack.logBucket.accessLogs) } },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  it('refuses anything but TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          },
        ],
      },
    });
  });
});

describe('functions', () => {
  it('run Node.js 24 on arm64, without source maps at run time, with a timeout and a log group with retention', () => {
    for (const id of ourFnIds) {
      const props = fnProps(id);
      expect(props.Runtime, id).toBe('nodejs24.x');
      expect(props.Architectures, id).toEqual(['arm64']);
      expect(props.Handler, id).toBe('index.handler');
      expect(props.Timeout, id).toBeGreaterThan(0);
      expect(props.Timeout, id).toBeLessThanOrEqual(300);
      expect(props.Environment.Variables, id).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'bank',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'Bank',
      });
      // Parsing the source map at import costs every cold start 20–25 ms (bench/ measures it).
      expect(props.Environment.Variables.NODE_OPTIONS, id).toBeUndefined();
      const logGroup = props.LoggingConfig.LogGroup as { Ref: string };
      expect(resource(logGroup.Ref).Properties?.RetentionInDays, id).toBe(365);
    }
    for (const id of routeFnIds.values()) expect(fnProps(id).Timeout).toBeLessThanOrEqual(29);
  });

  it('get only contract environment variables and no secret values', () => {
    const allowed = new Set<string>([
      ...bankEnvKeys,
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
    ]);
    for (const id of ourFnIds) {
      for (const [key, value] of Object.entries(fnProps(id).Environment.Variables)) {
        expect(allowed.has(key), `${id} ${key}`).toBe(true);
        if (key.endsWith('_ARN')) expect(typeof value, `${id} ${key}`).toBe('object');
      }
    }
    for (const route of routes) {
      const vars = fnProps(routeFnIds.get(route.name) ?? '').Environment.Variables;
      expect(vars).toMatchObject({
        BANK_DB_CLUSTER_ARN: clusterArn,
        BANK_DB_NAME: 'bank',
        BANK_JWT_ISSUER: defaultSettings.jwtIssuer,
        BANK_JWT_AUDIENCE: defaultSettings.jwtAudience,
        BANK_BCRYPT_COST: '10',
      });
    }
  });
});

describe('secret per database role', () => {
  it('gives each route exactly the role secrets dbRolesFor names, and the JWT key when it handles tokens', () => {
    for (const route of routes) {
      const id = routeFnIds.get(route.name) ?? '';
      const vars = fnProps(id).Environment.Variables;
      const roles = dbRolesFor(route.name);
      for (const role of dbRoles) {
        if (roles.includes(role))
          expect(vars[secretEnvKey[role]], route.name).toEqual({ Ref: roleSecretIds[role] });
        else expect(vars[secretEnvKey[role]], route.name).toBeUndefined();
      }
      const tokens = route.name !== 'health' && route.name !== 'openapi';
      expect(vars.BANK_JWT_SECRET_ARN, route.name).toEqual(tokens ? { Ref: jwtSecretId } : undefined);
      expect(vars.BANK_DB_MASTER_SECRET_ARN, route.name).toBeUndefined();
      const expected = [...roles.map((r) => roleSecretIds[r]), ...(tokens ? [jwtSecretId] : [])].sort();
      expect(secretResourcesOf(id), route.name).toEqual(expected);
    }
  });

  it('keeps the admin secret away from routes admins do not call and the master secret away from all routes', () => {
    const adminRoutes = routes.filter((r) => dbRolesFor(r.name).includes('bank_admin')).map((r) => r.name);
    expect(adminRoutes).not.toContain('auth.login');
    // Login holds the login-only role alone: no tier secret at all.
    expect(secretResourcesOf(routeFnIds.get('auth.login') ?? '')).toEqual(
      [roleSecretIds.bank_auth, jwtSecretId].sort(),
    );
    // The login-only role is held by login and by the two routes where a logged-in user gives
    // their password again (v1.1), and by nothing else.
    const passwordRoutes = ['me.password', 'me.totp.disable'];
    for (const route of routes) {
      if (route.name === 'auth.login') continue;
      const secrets = secretResourcesOf(routeFnIds.get(route.name) ?? '');
      if (passwordRoutes.includes(route.name)) expect(secrets, route.name).toContain(roleSecretIds.bank_auth);
      else expect(secrets, route.name).not.toContain(roleSecretIds.bank_auth);
    }
    for (const route of routes) {
      const secrets = secretResourcesOf(routeFnIds.get(route.name) ?? '');
      expect(secrets, route.name).not.toContain(masterSecretId);
      if (!adminRoutes.includes(route.name))
        expect(secrets, route.name).not.toContain(roleSecretIds.bank_admin);
    }
    expect(secretResourcesOf(routeFnIds.get('health') ?? '')).toEqual([]);
    expect(secretResourcesOf(routeFnIds.get('openapi') ?? '')).toEqual([]);
  });

  it('lets the migrate function read the master, role and auditor secrets, and nothing else', () => {
    const id = logicalIdOf(fns.migrate);
    const auditorSecretId = logicalIdOf(stack.database.auditorSecret);
    expect(secretResourcesOf(id)).toEqual(
      [masterSecretId, ...Object.values(roleSecretIds), auditorSecretId].sort(),
    );
    expect(fnProps(id).Environment.Variables).toMatchObject({
      BANK_DB_CLUSTER_ARN: clusterArn,
      BANK_DB_NAME: 'bank',
      BANK_DB_MASTER_SECRET_ARN: { Ref: masterSecretId },
      BANK_DB_SECRET_ARN_BANK_CUSTOMER: { Ref: roleSecretIds.bank_customer },
      BANK_DB_SECRET_ARN_BANK_TELLER: { Ref: roleSecretIds.bank_teller },
      BANK_DB_SECRET_ARN_BANK_ADMIN: { Ref: roleSecretIds.bank_admin },
      BANK_DB_SECRET_ARN_BANK_AUTH: { Ref: roleSecretIds.bank_auth },
      BANK_DB_SECRET_ARN_BANK_AUDITOR: { Ref: auditorSecretId },
      BANK_MIGRATIONS_DIR: '/var/task/migrations',
    });
  });
});

describe('least-privilege IAM', () => {
  const guarded = /^(rds-data|secretsmanager|s3):/;
  const allStatements = [
    ...ofType('AWS::IAM::Policy'),
    ...ofType('AWS::IAM::ManagedPolicy'),
    ...ofType('AWS::IAM::Role'),
  ].flatMap(([id, r]) => {
    const isPolicy = r.Type !== 'AWS::IAM::Role';
    const roles = isPolicy ? ((r.Properties?.Roles ?? []) as Array<{ Ref: string }>).map((x) => x.Ref) : [id];
    const docs = isPolicy
      ? [r.Properties?.PolicyDocument as { Statement: Statement[] }]
      : ((r.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>).map(
          (p) => p.PolicyDocument,
        );
    return docs.flatMap((d) => d.Statement.map((s) => ({ id, roles, s })));
  });

  it('has no wildcard action or resource for rds-data, Secrets Manager or S3', () => {
    const relevant = allStatements.filter(({ s }) => asArray(s.Action).some((a) => guarded.test(a)));
    expect(relevant.length).toBeGreaterThan(0);
    for (const { id, s } of relevant) {
      for (const action of asArray(s.Action)) expect(action, id).not.toContain('*');
      // GetRandomPassword (granted by CDK to rotation functions) acts on no resource.
      // (The policy minimizer merges it with X-Ray's actions, which have no resource either.)
      const guardedActions = asArray(s.Action).filter((a) => guarded.test(a));
      if (guardedActions.every((a) => a === 'secretsmanager:GetRandomPassword')) continue;
      for (const res of asArray(s.Resource)) expect(res, id).not.toBe('*');
    }
  });

  it('allows the Data API on this cluster only, to functions that use the database', () => {
    for (const { id, s } of allStatements) {
      const actions = asArray(s.Action);
      if (!actions.some((a) => a.startsWith('rds-data:'))) continue;
      expect([...actions].sort(), id).toEqual([...dataApiActions].sort());
      expect(s.Resource, id).toEqual(clusterArn);
    }
    for (const route of routes) {
      const hasDataApi = statementsOfRole(roleOf(routeFnIds.get(route.name) ?? '')).some((s) =>
        asArray(s.Action).some((a) => a.startsWith('rds-data:')),
      );
      expect(hasDataApi, route.name).toBe(dbRolesFor(route.name).length > 0);
    }
  });

  it('lets only the audit sealer touch the log bucket, and only its objects and listing', () => {
    const s3Users = allStatements.filter(({ s }) => asArray(s.Action).some((a) => a.startsWith('s3:')));
    const sealerRole = roleOf(logicalIdOf(fns.auditSeal));
    for (const { id, roles } of s3Users) expect(roles, id).toEqual([sealerRole]);
    expect(s3Users.flatMap(({ s }) => asArray(s.Action)).sort()).toEqual([
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
  });
});

describe('the HTTP API', () => {
  const [[apiId, api]] = ofType('AWS::ApiGatewayV2::Api') as [[string, CfnResource]];
  const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties?.RouteKey));

  it('serves every API.md route, from the manifest and nothing else', () => {
    expect([...routeKeys].sort()).toEqual([...apiContractRoutes].sort());
    expect([...routeKeys].sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(api.Properties?.ProtocolType).toBe('HTTP');
  });

  it('integrates each route with its own function, payload format 2.0', () => {
    for (const route of routes) {
      const [, r] = ofType('AWS::ApiGatewayV2::Route').find(
        ([, x]) => x.Properties?.RouteKey === `${route.method} ${route.path}`,
      ) ?? ['', undefined];
      const target = r?.Properties?.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      expect(target['Fn::Join'][1][0]).toBe('integrations/');
      const integrationId = target['Fn::Join'][1][1].Ref;
      const integration = resource(integrationId);
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [routeFnIds.get(route.name), 'Arn'] },
      });
    }
  });

  it('throttles the default stage and writes JSON access logs', () => {
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, CfnResource]];
    expect(stage.Properties).toMatchObject({
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    const access = stage.Properties?.AccessLogSettings as {
      DestinationArn: { 'Fn::GetAtt': [string, string] };
      Format: string;
    };
    expect(resource(access.DestinationArn['Fn::GetAtt'][0]).Type).toBe('AWS::Logs::LogGroup');
    const format = JSON.parse(access.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      integrationLatency: '$context.integrationLatency',
      responseLatency: '$context.responseLatency',
      ip: '$context.identity.sourceIp',
    });
  });

  it('has no CORS unless a web origin is configured', () => {
    expect(api.Properties?.CorsConfiguration).toBeUndefined();
  });

  it('runs the migrations before the stage goes live', () => {
    const [[triggerId]] = ofType('Custom::Trigger') as [[string, CfnResource]];
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, CfnResource]];
    expect(stage.DependsOn).toContain(triggerId);
  });

  it('outputs the API URL and what admin:create needs', () => {
    expect(Object.keys(json.Outputs ?? {}).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'DbAuditorSecretArn',
        'ConsoleBucketName',
        'ConsoleDistributionId',
        'ConsoleUrl',
        'DbClusterArn',
        'DbMasterSecretArn',
        'DbName',
        'LogBucketName',
      ].sort(),
    );
    expect(json.Outputs?.DbMasterSecretArn?.Value).toEqual({ Ref: masterSecretId });
  });
});

describe('the migration trigger', () => {
  it('invokes the current version of the migrate function after the cluster, writer and secrets exist', () => {
    const [[, trigger]] = ofType('Custom::Trigger') as [[string, CfnResource]];
    const migrateId = logicalIdOf(fns.migrate);
    const versionId = propOf<{ Ref: string }>(trigger, 'HandlerArn').Ref;
    expect(resource(versionId)).toMatchObject({
      Type: 'AWS::Lambda::Version',
      Properties: { FunctionName: { Ref: migrateId } },
    });
    expect(trigger.Properties).toMatchObject({
      InvocationType: 'RequestResponse',
      ExecuteOnHandlerChange: true,
    });
    const writerId = ofType('AWS::RDS::DBInstance')[0]?.[0];
    expect(trigger.DependsOn).toEqual(
      expect.arrayContaining([clusterId, writerId, masterSecretId, ...Object.values(roleSecretIds)]),
    );
  });
});

describe('the audit sealer', () => {
  it('runs every minute with the log bucket, the admin role and the API id for its traffic check', () => {
    const id = logicalIdOf(fns.auditSeal);
    const [[apiId]] = ofType('AWS::ApiGatewayV2::Api') as [[string, CfnResource]];
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [id, 'Arn'] } }],
    });
    const bucketId = logicalIdOf(stack.logBucket.bucket);
    expect(fnProps(id).Environment.Variables).toMatchObject({
      BANK_LOG_BUCKET: { Ref: bucketId },
      BANK_DB_SECRET_ARN_BANK_ADMIN: { Ref: roleSecretIds.bank_admin },
      BANK_API_ID: { Ref: apiId },
      BANK_AUDIT_TRAFFIC_LOOKBACK_MIN: '6',
    });
    expect(secretResourcesOf(id)).toEqual([roleSecretIds.bank_admin]);
    // GetMetricData has no resource-level scope; CDK merges it with active tracing's X-Ray actions.
    const traffic = statementsOfRole(roleOf(id)).filter((st) =>
      asArray(st.Action).includes('cloudwatch:GetMetricData'),
    );
    expect(traffic).toEqual([expect.objectContaining({ Effect: 'Allow', Resource: '*' })]);
    expect(asArray(traffic[0]?.Action).sort()).toEqual([
      'cloudwatch:GetMetricData',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});

describe('alarms', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const [[topicId]] = ofType('AWS::SNS::Topic') as [[string, CfnResource]];

  it('send every alarm to the SNS topic', () => {
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions, id).toEqual([{ Ref: topicId }]);
    }
  });

  it('watch the API 5xx rate', () => {
    const rate = alarms.filter(([, a]) =>
      JSON.stringify(a.Properties?.Metrics ?? []).includes('100 * errors / requests'),
    );
    expect(rate).toHaveLength(1);
    const metrics = JSON.stringify(rate[0]?.[1].Properties?.Metrics);
    expect(metrics).toContain('"MetricName":"5xx"');
    expect(metrics).toContain('"MetricName":"Count"');
    expect(rate[0]?.[1].Properties?.Threshold).toBe(5);
  });

  it('watch Errors and Throttles of every function', () => {
    for (const id of ourFnIds) {
      for (const metricName of ['Errors', 'Throttles']) {
        const found = alarms.filter(
          ([, a]) =>
            a.Properties?.MetricName === metricName &&
            a.Properties?.Namespace === 'AWS/Lambda' &&
            JSON.stringify(a.Properties?.Dimensions) ===
              JSON.stringify([{ Name: 'FunctionName', Value: { Ref: id } }]),
        );
        expect(found, `${id} ${metricName}`).toHaveLength(1);
      }
    }
  });

  it('count Data API errors logged by any function', () => {
    const filters = ofType('AWS::Logs::MetricFilter');
    const logGroups = new Set(
      ourFnIds.map((id) => (fnProps(id).LoggingConfig.LogGroup as { Ref: string }).Ref),
    );
    expect(new Set(filters.map(([, f]) => propOf<{ Ref: string }>(f, 'LogGroupName').Ref))).toEqual(
      logGroups,
    );
    for (const [, filter] of filters) {
      const pattern = String(filter.Properties?.FilterPattern);
      expect(pattern).toContain('$.level = "ERROR"');
      for (const name of ['DatabaseErrorException', 'BadRequestException']) {
        expect(pattern).toContain(`$.errorName = "${name}"`);
      }
      expect(dataApiErrorNames.every((n) => pattern.includes(n))).toBe(true);
    }
    const metric = propOf<Array<Record<string, string>>>(filters[0]?.[1], 'MetricTransformations')[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: metric?.MetricNamespace,
      MetricName: metric?.MetricName,
      Threshold: 1,
    });
  });
});

describe('settings from context', () => {
  it('configure CORS, retention, throttling, capacity and the alarm e-mail', () => {
    const custom = synth({
      bundle: false,
      context: {
        webOrigin: 'https://console.bank.example',
        logBucketRetentionDays: '30',
        apiRateLimit: '10',
        apiBurstLimit: '20',
        dbMaxCapacity: '8',
        alarmEmail: 'ops@bank.example',
        auditSealIntervalMinutes: '15',
      },
    }).template;
    custom.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://console.bank.example'],
        AllowMethods: ['GET', 'POST', 'OPTIONS'],
        AllowCredentials: false,
      },
    });
    custom.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } },
    });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
    custom.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 8 },
    });
    custom.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@bank.example',
    });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  it('refuse invalid values', () => {
    expect(() => synth({ bundle: false, context: { dbMinCapacity: '8', dbMaxCapacity: '4' } })).toThrow(
      /dbMinCapacity/,
    );
    expect(() => synth({ bundle: false, context: { webOrigin: 'https://bank.example/app' } })).toThrow(
      /webOrigin/,
    );
    expect(() => synth({ bundle: false, context: { logBucketRetentionDays: '0' } })).toThrow(
      /logBucketRetentionDays/,
    );
    expect(() => synth({ bundle: false, context: { apiRateLimit: 'fast' } })).toThrow(/apiRateLimit/);
    expect(() => synth({ bundle: false, context: { dailyDebitLimit: '5000.001' } })).toThrow(
      /^context dailyDebitLimit=5000\.001: /,
    );
    expect(() => synth({ bundle: false, context: { approvalAmount: '0' } })).toThrow(/approvalAmount/);
    expect(() => synth({ bundle: false, context: { stepUpAmount: '1e3' } })).toThrow(/stepUpAmount/);
  });

  it('pass the money settings to every function, the migrate function (which writes them to the database) included', () => {
    const custom = synth({
      bundle: false,
      context: { stepUpAmount: '250.50', dailyDebitLimit: '2000', approvalAmount: '10000.00' },
    }).json;
    const functions = Object.values(custom.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Handler === 'index.handler',
    );
    const withSettings = functions.filter((f) => {
      const env = (f.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      return (
        env?.BANK_STEP_UP_AMOUNT === '250.50' &&
        env.BANK_DAILY_DEBIT_LIMIT === '2000' &&
        env.BANK_APPROVAL_AMOUNT === '10000.00'
      );
    });
    // Every route function and the migrate function; the audit sealer and the two secret
    // rotation functions need none.
    expect(withSettings.length).toBe(functions.length - 3);
    expect(
      withSettings.some((f) => String(f.Properties?.Description ?? '').startsWith('Applies migrations/')),
    ).toBe(true);
  });
});

/** Asset hashes change with every code edit; the infrastructure snapshot must not. */
function normalise(template: unknown): unknown {
  const text = JSON.stringify(template)
    .replace(/[0-9a-f]{64}/g, '[ASSET_HASH]')
    .replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1[VERSION_HASH]');
  return JSON.parse(text);
}

describe('with real bundling', () => {
  let outdir = '';
  let bundled: ReturnType<typeof synth> | undefined;

  beforeAll(async () => {
    outdir = await mkdtemp(path.join(tmpdir(), 'bank-cdk-'));
    bundled = synth({ bundle: true, outdir });
  }, 600_000);
  afterAll(async () => {
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  /** The staged bundle of a function: its S3 key is `<asset hash>.zip`, staged as `asset.<hash>/`. */
  function assetDirOf(fnLogicalId: string): string {
    const code = bundled?.json.Resources[fnLogicalId]?.Properties?.Code as { S3Key?: string } | undefined;
    const hash = /^([0-9a-f]{64})\.zip$/.exec(code?.S3Key ?? '')?.[1];
    if (!hash) throw new Error(`${fnLogicalId} has no bundled asset`);
    return path.join(outdir, `asset.${hash}`);
  }

  it('matches the template snapshot (asset hashes normalised)', async () => {
    const normalised = normalise(bundled?.json);
    await expect(`${JSON.stringify(normalised, null, 2)}\n`).toMatchFileSnapshot(
      './__snapshots__/SecureBank.template.json',
    );
    // The assertions above looked at the same template, only without bundling.
    expect(normalised).toEqual(normalise(json));
  });

  it('deploys bundles identical to the ones the bundle test measures, within budget', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'bank-esbuild-'));
    try {
      const entries = [
        ...fns.routeFunctions.map(({ route, fn }) => ({ entry: route.entry, fn })),
        ...backgroundFunctions.map((b) => ({
          entry: b.entry,
          fn: {
            migrate: fns.migrate,
            'audit.seal': fns.auditSeal,
            'rotate.dbSecret': fns.rotateDbSecret,
            'rotate.jwtKey': fns.rotateJwtKey,
          }[b.name],
        })),
      ];
      for (const { entry, fn } of entries) {
        const dir = assetDirOf(logicalIdOf(fn));
        const deployed = await readFile(path.join(dir, 'index.mjs'));
        expect(deployed.length, entry).toBeLessThanOrEqual(bundleBudgetBytes);
        expect(statSync(path.join(dir, 'index.mjs.map')).size, entry).toBeGreaterThan(0);
        const outfile = path.join(scratch, entry, 'index.mjs');
        await build(esbuildOptionsFor(entryFileOf(entry), outfile));
        expect(
          deployed.equals(await readFile(outfile)),
          `${entry} bundle differs from esbuildOptionsFor`,
        ).toBe(true);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 180_000); // esbuild builds every function once more, on a machine shared with the other test files

  it('ships migrations/ inside the migrate bundle, its function files included', () => {
    const assetPath = assetDirOf(logicalIdOf(fns.migrate));
    for (const sub of ['', 'functions']) {
      const shipped = readdirSync(path.join(assetPath, 'migrations', sub)).sort();
      const source = readdirSync(path.join(migrationsDir, sub)).sort();
      expect(shipped).toEqual(source);
      const files = source.filter((f) => f.endsWith('.sql'));
      expect(files.length).toBeGreaterThan(sub === '' ? 5 : 30);
      for (const file of files) {
        expect(readFileSync(path.join(assetPath, 'migrations', sub, file), 'utf8')).toBe(
          readFileSync(path.join(migrationsDir, sub, file), 'utf8'),
        );
      }
    }
  });
});
