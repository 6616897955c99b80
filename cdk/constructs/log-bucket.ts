import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledge } from '../nag';

export interface LogBucketProps {
  /** Default Object Lock retention (compliance mode) of every object version, in days. */
  readonly retentionDays: number;
  /** The bank's key: default encryption (SSE-KMS) of every object. */
  readonly key: kms.IKey;
}

/** How long S3 server access log records of the log bucket are kept (PCI DSS 10.7: one year). */
export const accessLogRetentionDays = 365;

/**
 * The write-once bucket for sealed audit batches: versioned, S3 Object Lock in COMPLIANCE mode
 * with a default retention (nobody, the root user included, can shorten it or delete a locked
 * version before it expires), SSE-KMS with the bank's key (Object Lock and SSE-KMS combine; the
 * S3 Bucket Key keeps KMS requests, and their cost, to about one per batch), TLS only, all public
 * access blocked, retained on stack deletion. Every request to it is recorded by S3 server
 * access logging into a second, locked-down bucket.
 */
export class LogBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: LogBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) {
      throw new Error(`log bucket retention must be a whole number of days >= 1, got ${props.retentionDays}`);
    }
    this.key = props.key;

    // S3 delivers server access logs only to a bucket with SSE-S3 (not SSE-KMS), and without
    // Object Lock default retention; so this bucket is versioned, private, TLS only, keeps its
    // records for a year and lets nobody but the S3 logging service write (the policy CDK adds).
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          expiration: Duration.days(accessLogRetentionDays),
          noncurrentVersionExpiration: Duration.days(accessLogRetentionDays),
        },
      ],
    });
    acknowledge(
      this.accessLogs,
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      'S3 server access logging delivers only to buckets encrypted with SSE-S3, not SSE-KMS. The records hold request metadata (no object contents); the bucket is private and TLS only.',
    );
    acknowledge(
      this.accessLogs,
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'Access records of the audit bucket: losing them with a region loses no audit event (those are sealed in the audit bucket); a second-region copy is not worth a second bucket and stack.',
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-bucket/',
    });
    acknowledge(
      this.bucket,
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'Not replicated, a cost trade-off: the sealed batches are in one region under Object Lock COMPLIANCE (no deletion or overwrite before retention ends, not even by root), versioned and KMS-encrypted, and the ledger they seal stays in Aurora with its backups. Cross-region replication needs a second Object Lock bucket and stack in another region; add it when the disaster-recovery plan requires an audit copy outside the region (storage is small; replication costs per GB).',
    );
  }

  /**
   * Write sealed batches (and read back the last seal to chain on), with the key to encrypt and
   * decrypt them through S3; nothing else.
   */
  grantSealWriter(grantee: iam.IGrantable & IConstruct): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    const cfnBucket = this.bucket.node.defaultChild;
    if (!(cfnBucket instanceof s3.CfnBucket)) throw new Error('the log bucket has no CfnBucket');
    const bucketId = Stack.of(this).getLogicalId(cfnBucket);
    acknowledge(
      grantee,
      `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      'The sealer names each batch object by its sequence number, so it needs the objects of this one bucket; it may put and get them, never delete, and Object Lock COMPLIANCE makes every written version immutable for the retention period.',
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }
}
