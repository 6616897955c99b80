import { Duration } from 'aws-cdk-lib';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import type { BankFunction } from './bank-function';

export interface MigrationTriggerProps {
  /** The migrate function (functions/migrate.ts, bundled with migrations/). */
  readonly handler: BankFunction;
  /** Run only once these exist (the database: cluster, writer instance, role secrets). */
  readonly after: readonly Construct[];
  /** And before these (the API stage: no traffic reaches a schema that is not migrated). */
  readonly before: readonly Construct[];
}

/**
 * Invokes the migrate function during `cdk deploy`, synchronously, after the cluster exists. The
 * trigger is tied to the function's current version, so it runs again whenever the bundle
 * changes, and the bundle contains migrations/: a new migration file means a new run. A failed
 * run fails the deployment, which CloudFormation then rolls back.
 */
export class MigrationTrigger extends Construct {
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: MigrationTriggerProps) {
    super(scope, id);
    this.trigger = new triggers.Trigger(this, 'Trigger', {
      handler: props.handler,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: props.handler.timeout ?? Duration.minutes(5),
      executeOnHandlerChange: true,
      executeAfter: [...props.after],
      executeBefore: [...props.before],
    });
  }
}
