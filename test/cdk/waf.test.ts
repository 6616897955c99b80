import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BankWebAcl, loginRateLimitDefault } from '../../cdk/constructs/waf';

/** The web ACL helper the console's CloudFront distribution will use (not part of BankStack yet). */
describe('BankWebAcl', () => {
  it('has the AWS common and known-bad-inputs rule sets and a per-address rate limit on login', () => {
    const stack = new Stack(new App(), 'Edge', { env: { region: 'us-east-1', account: '111111111111' } });
    new BankWebAcl(stack, 'Waf');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet', OverrideAction: { None: {} } }),
        Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet', OverrideAction: { None: {} } }),
        Match.objectLike({
          Name: 'LoginRateLimit',
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: Match.objectLike({
              Limit: loginRateLimitDefault,
              AggregateKeyType: 'IP',
              ScopeDownStatement: {
                ByteMatchStatement: Match.objectLike({
                  SearchString: '/auth/login',
                  PositionalConstraint: 'ENDS_WITH',
                }),
              },
            }),
          },
        }),
      ],
    });
    // A stack pinned to us-east-1 needs no deploy-time region guard (CDK's own bootstrap check only).
    expect(Object.keys(template.toJSON().Rules ?? {})).toEqual(['CheckBootstrapVersion']);
  });

  it('refuses a stack in another region, and guards an environment-agnostic one at deploy time', () => {
    const elsewhere = new Stack(new App(), 'Elsewhere', {
      env: { region: 'eu-west-1', account: '111111111111' },
    });
    expect(() => new BankWebAcl(elsewhere, 'Waf')).toThrow(/us-east-1/);
    const agnostic = new Stack(new App(), 'Agnostic');
    new BankWebAcl(agnostic, 'Waf');
    const rules = Template.fromStack(agnostic).toJSON().Rules as Record<string, { Assertions: unknown[] }>;
    const guards = Object.entries(rules).filter(([id]) => id !== 'CheckBootstrapVersion');
    expect(JSON.stringify(guards)).toContain('us-east-1');
    expect(guards).toHaveLength(1);
  });
});
