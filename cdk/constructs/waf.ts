import { Aws, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface BankWebAclProps {
  /** Requests to the login path one client address may make per 5 minutes before WAF blocks it. */
  readonly loginRateLimitPer5Min?: number;
  /** The login path as CloudFront sees it (a suffix, so an `/api` prefix still matches). */
  readonly loginPath?: string;
}

export const loginRateLimitDefault = 100;

/**
 * A WAF web ACL for the web console's CloudFront distribution (not created by BankStack: the
 * console construct will attach it with `webAclId: acl.attrArn`): AWS's common rule set, its
 * known-bad-inputs rule set, and a rate-based rule per client address on the login path (the
 * database rate-limits failed logins too; this stops a flood before it costs a Lambda and a
 * Data API call).
 *
 * Regions: a CLOUDFRONT-scope web ACL exists only in us-east-1. BankStack is environment-
 * agnostic and deploys to the CLI's region, so the console construct should put this ACL in a
 * small stack pinned to us-east-1 (`env: { region: 'us-east-1' }`, with `crossRegionReferences`
 * on the stack that uses it), or deploy the whole app in us-east-1. Synth refuses a stack whose
 * region is known and is another one; for an environment-agnostic stack a CloudFormation rule
 * fails the deployment before anything is created.
 */
export class BankWebAcl extends Construct {
  readonly acl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: BankWebAclProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      throw new Error(`a CloudFront web ACL must be created in us-east-1, not ${region}`);
    }
    if (Token.isUnresolved(region)) {
      new CfnRule(this, 'OnlyInUsEast1', {
        assertions: [
          {
            assert: Fn.conditionEquals(Aws.REGION, 'us-east-1'),
            assertDescription: 'A CloudFront (CLOUDFRONT scope) web ACL can only be created in us-east-1',
          },
        ],
      });
    }
    const limit = props.loginRateLimitPer5Min ?? loginRateLimitDefault;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    this.acl = new wafv2.CfnWebACL(this, 'Acl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      description: 'Bank web console: AWS common and known-bad-inputs rules, login rate limit',
      visibilityConfig: visibility('BankWebAcl'),
      rules: [
        managed('AWSManagedRulesCommonRuleSet', 0),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
        {
          name: 'LoginRateLimit',
          priority: 2,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  positionalConstraint: 'ENDS_WITH',
                  searchString: props.loginPath ?? '/auth/login',
                  textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
                },
              },
            },
          },
          visibilityConfig: visibility('LoginRateLimit'),
        },
      ],
    });
  }
}
