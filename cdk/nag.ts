import { type PolicyViolation, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * The rule packs a bank's security reviewer runs on this app: AWS Solutions, PCI DSS 3.2.1 and
 * Serverless. cdk-nag 3 runs them as CDK policy-validation plugins (`Validations.of(app)
 * .addPlugins`), not as Aspects, and reads acknowledgments from `Validations.of(construct)
 * .acknowledge`, which cover the construct and everything below it.
 */
export function nagPacks(scope: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope), new PCIDSS321Checks(scope), new ServerlessChecks(scope)];
}

/** Rule-id prefixes of the three packs. */
export const nagRulePrefixes = ['AwsSolutions-', 'PCI.DSS.321-', 'Serverless-'] as const;

/** One finding: a rule that one resource breaks and nobody has acknowledged. */
export interface NagFinding {
  readonly pack: string;
  readonly rule: string;
  readonly severity: PolicyViolation['severity'];
  readonly path: string;
}

/** Runs every pack over `scope` (the app or a stack) and lists each unacknowledged finding. */
export function nagFindings(scope: IConstruct): NagFinding[] {
  const findings: NagFinding[] = [];
  for (const pack of nagPacks(scope)) {
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) {
        findings.push({
          pack: pack.readPackName,
          rule: violation.ruleName,
          severity: violation.severity,
          path: resource.constructPath ?? '(unknown)',
        });
      }
    }
  }
  return findings;
}

/** One acknowledged rule, where it was acknowledged and why. */
export interface NagAcknowledgment {
  readonly rule: string;
  readonly path: string;
  readonly reason: string;
}

/** Every acknowledgment recorded under `scope`, in construct-tree order. */
export function nagAcknowledgments(scope: IConstruct): NagAcknowledgment[] {
  const out: NagAcknowledgment[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      const data: unknown = entry.data;
      if (typeof data !== 'object' || data === null) continue;
      for (const [id, reason] of Object.entries(data)) {
        const rule = id.replace(/^annotation::/i, '');
        // CDK itself acknowledges some of its own CloudFormation-validation rules; only nag's count.
        if (typeof reason !== 'string' || !nagRulePrefixes.some((p) => rule.startsWith(p))) continue;
        out.push({ rule, path: construct.node.path, reason });
      }
    }
  }
  return out;
}

/**
 * Acknowledges one nag rule on one construct (and the resources under it), with the reason a
 * reviewer reads in the README's table. A rule id with a finding (`AwsSolutions-IAM5[Resource::*]`)
 * acknowledges that finding only.
 */
export function acknowledge(construct: IConstruct, rule: string, reason: string): void {
  if (recording) {
    recording.push({ rule, path: construct.node.path, reason });
    return;
  }
  Validations.of(construct).acknowledge({ id: rule, reason });
}

let recording: NagAcknowledgment[] | undefined;

/**
 * Builds an app with every `acknowledge` call recorded instead of applied: what the packs find
 * then is everything they would report with no acknowledgment at all, and each recorded
 * acknowledgment can be checked against it (one that matches no finding is stale).
 */
export function withoutAcknowledgments<T>(build: () => T): {
  result: T;
  acknowledgments: NagAcknowledgment[];
} {
  const acknowledgments: NagAcknowledgment[] = [];
  recording = acknowledgments;
  try {
    return { result: build(), acknowledgments };
  } finally {
    recording = undefined;
  }
}

/** Whether a finding at `findingPath` is covered by an acknowledgment on `ackPath` (itself or an ancestor). */
export function covers(ackPath: string, findingPath: string): boolean {
  return findingPath === ackPath || findingPath.startsWith(`${ackPath}/`);
}
