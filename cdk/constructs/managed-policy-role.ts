import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * A role whose every statement (granted by this project or by CDK, e.g. X-Ray for active
 * tracing, or a log group's write grant) lands in one customer-managed policy attached to this
 * role only, never in an inline policy: PCI DSS 7.1-7.2 reviewers read managed policies, and
 * this one is still specific to the role. No AWS managed policy is attached.
 */
export class ManagedPolicyRole extends iam.Role {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: { assumedBy: iam.IPrincipal; description: string }) {
    super(scope, id, props);
    this.policy = new iam.ManagedPolicy(this, 'Policy', { roles: [this] });
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}
