import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { consoleCsp } from '../../web/csp';
import { acknowledge } from '../nag';

export { consoleCsp };

/** Path patterns served from the console bucket; everything else goes to the HTTP API. */
export const staticPaths = ['/console/*', '/docs/*'] as const;

/**
 * Viewer-request function (cloudfront-js-2.0): a path without an extension under /console/ is a
 * client-side route and gets the console's index.html (no distribution-wide error-page rewrite,
 * so the API's own 404s stay 404s); `/docs` and `/console` get their trailing slash; a browser
 * asking for `/` is sent to the console.
 */
export const viewerRequestCode = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' ) {
    var accept = request.headers.accept ? request.headers.accept.value : '';
    if (accept.indexOf('text/html') !== -1) {
      return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/console/' } } };
    }
    return request;
  }
  if (uri === '/console' || uri === '/docs') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: uri + '/' } } };
  }
  if (uri.indexOf('/console/') === 0 || uri.indexOf('/docs/') === 0) {
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) request.uri = uri.indexOf('/console/') === 0 ? '/console/index.html' : '/docs/index.html';
  }
  return request;
}
`;

export interface ConsoleDistributionProps {
  readonly httpApi: apigw.IHttpApi;
  /**
   * ARN of a WAF web ACL (scope CLOUDFRONT, in us-east-1) to attach; none: no WAF. A WAF construct
   * may also call `attachWebAcl` later.
   */
  readonly webAclArn?: string;
  /**
   * A custom domain for the distribution, with an ACM certificate in us-east-1 that covers it.
   * With one, viewers need TLS 1.2 or later; the default *.cloudfront.net name accepts what
   * CloudFront's own certificate does.
   */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** Days CloudFront access logs are kept. */
  readonly accessLogDays?: number;
}

/**
 * The web console on the API's own origin: one CloudFront distribution whose `/console/*` and
 * `/docs/*` come from a private bucket through origin access control, and whose every other path
 * goes to the HTTP API uncached with every viewer header but Host. The console's strict CSP is a
 * response headers policy. Files are uploaded by `npm run deploy` (cdk/scripts/console-upload.ts).
 */
export class ConsoleDistribution extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly viewerRequest: cloudfront.Function;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  private readonly domainName: string | undefined;

  constructor(scope: Construct, id: string, props: ConsoleDistributionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.domainName = props.domain?.name;

    // CloudFront standard logs are written with ACLs, so this bucket keeps them enabled.
    this.logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      // S3's own access log of the console's files, beside CloudFront's (a bucket policy grants it).
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 's3/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    acknowledge(
      this.bucket,
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      "The console's files are the same static HTML, JavaScript and CSS that every visitor downloads: no secret or customer data is in them, so SSE-S3 protects them as well as a KMS key would, without giving CloudFront a grant on the bank's data key.",
    );
    acknowledge(
      this.bucket,
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'Build output, rebuilt from the repository by `npm run deploy` (and versioned here for 30 days): a replica would add a second bucket and replication cost to protect nothing that cannot be rebuilt.',
    );
    acknowledge(
      this.logBucket,
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      'CloudFront standard logging delivers only to buckets encrypted with SSE-S3 (it cannot use a customer-managed KMS key), so this bucket stays on SSE-S3; it holds request logs, no customer data beyond what CloudFront sees.',
    );
    acknowledge(
      this.logBucket,
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'Access logs kept a year with a lifecycle rule; replicating them would double their storage and request cost. The audit trail that matters is sealed in the Object Lock log bucket.',
    );
    acknowledge(
      this.logBucket,
      'PCI.DSS.321-S3BucketVersioningEnabled',
      'Log delivery only ever creates new objects, and the lifecycle rule expires them after a year; versions would keep every expired log as a noncurrent version.',
    );

    this.viewerRequest = new cloudfront.Function(this, 'ViewerRequest', {
      comment: 'Console client-side routes to index.html; / to the console for browsers',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(viewerRequestCode),
    });

    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Bank console: strict CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleCsp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    const staticOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const functionAssociations = [
      { function: this.viewerRequest, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
    ];
    const staticBehavior: cloudfront.BehaviorOptions = {
      origin: staticOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: this.headers,
      compress: true,
      functionAssociations,
    };
    const apiDomain = `${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Bank API and web console, one origin',
      defaultBehavior: {
        origin: new origins.HttpOrigin(apiDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        compress: true,
        functionAssociations,
      },
      additionalBehaviors: Object.fromEntries(staticPaths.map((p) => [p, staticBehavior])),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      ...(props.webAclArn ? { webAclId: props.webAclArn } : {}),
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
          }
        : {}),
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      "No geo restriction: the bank's customers use it from wherever they are; abuse is handled per request (the API's login limits, and the WAF rate rule when a web ACL is attached).",
    );
    if (!props.webAclArn) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR2',
        'A CloudFront web ACL must live in us-east-1 while this stack may be regional: deploy cdk/constructs/waf.ts (AWS managed common and known-bad-inputs rule sets, a rate rule on /auth/login) in us-east-1 and pass its ARN as context `consoleWebAclArn`, which attaches it and removes this finding. Without it the API still rate-limits logins in PostgreSQL.',
      );
    }
    if (!props.domain) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR4',
        'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose security policy it does not let a distribution choose (TLSv1 is still negotiable there). Give `consoleDomainName` and `consoleCertificateArn` and the distribution requires TLSv1.2_2021.',
      );
    }
  }

  /** Attaches a WAF web ACL (scope CLOUDFRONT) by ARN, e.g. from a WAF construct made later. */
  attachWebAcl(webAclArn: string): void {
    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    cfn.addPropertyOverride('DistributionConfig.WebACLId', webAclArn);
  }

  /** The origin of both the console and the API: the custom domain, or `https://<id>.cloudfront.net`. */
  get url(): string {
    return `https://${this.domainName ?? this.distribution.distributionDomainName}`;
  }
}
