import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BankStack, defaultSettings, settingsFromContext } from '../../cdk/bank-stack';
import { viewerRequestCode } from '../../cdk/constructs/console';
import { consoleCsp } from '../../web/csp';

/** The console's CloudFront distribution: same origin as the API, static files from S3 via OAC. */
const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** As `cdk synth` would (cdk.json feature flags), without bundling. */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({
    analyticsReporting: false,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new BankStack(app, defaultSettings.stackName, { settings: settingsFromContext(app.node) });
  return { stack, template: Template.fromStack(stack) };
}
const { stack, template } = synth();
const distribution = () =>
  Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]?.Properties
    ?.DistributionConfig as Record<string, unknown>;

describe('the console distribution', () => {
  it('sends everything but the console to the HTTP API, uncached, with every viewer header but Host', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    const config = distribution();
    expect(config.DefaultCacheBehavior).toMatchObject({
      // Managed policies: CachingDisabled, AllViewerExceptHostHeader.
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
      ViewerProtocolPolicy: 'https-only',
    });
    expect(
      [...((config.DefaultCacheBehavior as { AllowedMethods: string[] }).AllowedMethods ?? [])].sort(),
    ).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    const origins = config.Origins as Array<Record<string, unknown>>;
    const api = origins.find((o) => o.CustomOriginConfig !== undefined);
    expect(JSON.stringify(api?.DomainName)).toContain('execute-api');
    expect(api?.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
  });

  it('serves /console/* and /docs/* from a private bucket through origin access control, with the CSP', () => {
    const config = distribution();
    const behaviors = config.CacheBehaviors as Array<Record<string, unknown>>;
    expect(behaviors.map((b) => b.PathPattern).sort()).toEqual(['/console/*', '/docs/*']);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const origins = config.Origins as Array<Record<string, unknown>>;
    const s3 = origins.find((o) => o.S3OriginConfig !== undefined);
    expect(s3?.OriginAccessControlId).toBeDefined();
    for (const b of behaviors) expect(b.ResponseHeadersPolicyId).toBeDefined();
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: consoleCsp, Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
        }),
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    // Only CloudFront (this distribution) may read the bucket.
    const policy = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toContain('cloudfront.amazonaws.com');
    expect(policy).toContain('AWS:SourceArn');
  });

  it('rewrites client routes in a CloudFront Function, not with distribution-wide error pages', () => {
    const config = distribution();
    expect(config.CustomErrorResponses).toBeUndefined();
    template.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    });
    const handler = new Function('event', `${viewerRequestCode}\nreturn handler(event);`) as (
      event: unknown,
    ) => {
      uri?: string;
      statusCode?: number;
      headers?: Record<string, { value: string }>;
    };
    const request = (uri: string, accept = '*/*') => ({
      request: { uri, headers: { accept: { value: accept } } },
    });
    expect(handler(request('/console/accounts/400000000002')).uri).toBe('/console/index.html');
    expect(handler(request('/console/')).uri).toBe('/console/index.html');
    expect(handler(request('/console/assets/index-abc.js')).uri).toBe('/console/assets/index-abc.js');
    expect(handler(request('/docs/')).uri).toBe('/docs/index.html');
    expect(handler(request('/docs/docs.css')).uri).toBe('/docs/docs.css');
    expect(handler(request('/docs'))).toMatchObject({
      statusCode: 301,
      headers: { location: { value: '/docs/' } },
    });
    expect(handler(request('/accounts/400000000002')).uri).toBe('/accounts/400000000002');
    expect(handler(request('/', 'text/html'))).toMatchObject({
      statusCode: 302,
      headers: { location: { value: '/console/' } },
    });
    expect(handler(request('/')).uri).toBe('/');
  });

  it('logs access, asks for TLS 1.2, and takes a WAF web ACL when one is given', () => {
    const config = distribution();
    expect(config.Logging).toBeDefined();
    expect(config.WebACLId).toBeUndefined();
    const withWaf = synth({
      consoleWebAclArn: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/bank/abc',
    });
    const wafConfig = Object.values(withWaf.template.findResources('AWS::CloudFront::Distribution'))[0]
      ?.Properties?.DistributionConfig as Record<string, unknown>;
    expect(wafConfig.WebACLId).toBe('arn:aws:wafv2:us-east-1:111122223333:global/webacl/bank/abc');
    expect(stack.console.url).toContain('https://');
    const custom = synth({
      consoleDomainName: 'bank.example.com',
      consoleCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc',
    });
    const customConfig = Object.values(custom.template.findResources('AWS::CloudFront::Distribution'))[0]
      ?.Properties?.DistributionConfig as Record<string, unknown>;
    expect(customConfig.Aliases).toEqual(['bank.example.com']);
    expect(customConfig.ViewerCertificate).toMatchObject({ MinimumProtocolVersion: 'TLSv1.2_2021' });
    expect(() => synth({ consoleDomainName: 'bank.example.com' })).toThrow(/go together/);
  });
});
