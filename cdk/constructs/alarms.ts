import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bankMetricNames, bankMetricsNamespace, bankServiceName } from '../../shared/metrics-names';
import type { BankFunction } from './bank-function';

/**
 * Data API failures the handlers log (`{"level":"ERROR","errorName":...}`): the SDK error names
 * of the RDS Data API. There is no native CloudWatch metric for them.
 */
export const dataApiErrorNames = [
  'DatabaseErrorException',
  'BadRequestException',
  'StatementTimeoutException',
  'DatabaseUnavailableException',
  'DatabaseNotFoundException',
  'ForbiddenException',
  'InternalServerErrorException',
  'ServiceUnavailableError',
] as const;

export const dataApiErrorMetricName = 'DataApiErrors';

export interface BankAlarmsProps {
  readonly httpApi: apigw.HttpApi;
  readonly functions: readonly BankFunction[];
  /** The dead-letter queue of the asynchronous functions and the sealer schedule. */
  readonly deadLetters: sqs.IQueue;
  /** The bank's key: encrypts the topic (CloudWatch alarms may use it through the key policy). */
  readonly key: kms.IKey;
  /** Percentage of requests answered 5xx over 5 minutes that raises the alarm. */
  readonly serverErrorRatePercent: number;
  /** Optional address subscribed to the alarm topic (confirm the subscription e-mail). */
  readonly email?: string;
}

/**
 * Alarms into one SNS topic: the API's 5xx rate, each function's Errors and Throttles (one alarm
 * per function: a metric-math alarm takes at most 10 metrics and there are more functions than
 * that, and the alarm name then says which function failed), and Data API errors counted by
 * metric filters on the functions' log groups.
 */
export class BankAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: BankAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Bank alarms',
      enforceSSL: true,
      masterKey: props.key,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const requests = props.httpApi.metricCount({ period, statistic: cloudwatch.Stats.SUM });
    const serverErrors = props.httpApi.metricServerError({ period, statistic: cloudwatch.Stats.SUM });
    this.add(
      'Api5xxRate',
      new cloudwatch.MathExpression({
        label: 'API 5xx responses (% of requests)',
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { requests, errors: serverErrors },
        period,
      }),
      {
        threshold: props.serverErrorRatePercent,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `At least ${props.serverErrorRatePercent}% of API requests answered 5xx in 2 of 3 five-minute periods`,
      },
    );

    const namespace = `Bank/${Stack.of(this).stackName}`;
    for (const fn of props.functions) {
      const name = fn.node.id;
      this.add(`${name}Errors`, fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }), {
        threshold: 1,
        description: `${name}: invocations ended in an unhandled error`,
      });
      this.add(`${name}Throttles`, fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }), {
        threshold: 1,
        description: `${name}: invocations throttled`,
      });
      new logs.MetricFilter(this, `${name}DataApiErrorFilter`, {
        logGroup: fn.logGroup,
        metricNamespace: namespace,
        metricName: dataApiErrorMetricName,
        metricValue: '1',
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
          logs.FilterPattern.any(
            ...dataApiErrorNames.map((errorName) =>
              logs.FilterPattern.stringValue('$.errorName', '=', errorName),
            ),
          ),
        ),
      });
    }
    this.add(
      'DataApiErrors',
      new cloudwatch.Metric({
        namespace,
        metricName: dataApiErrorMetricName,
        period,
        statistic: cloudwatch.Stats.SUM,
      }),
      { threshold: 1, description: 'Data API calls failed (logged errorName of an RDS Data API exception)' },
    );

    this.add(
      'DeadLetters',
      props.deadLetters.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      {
        threshold: 1,
        description:
          'An audit seal run or a secret rotation failed for good (its event is in the dead-letter queue): the seal chain or a rotation is behind until an operator acts',
      },
    );

    // The bank's own figures (EMF, shared/metrics.ts) that an operator must act on.
    const bankMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: bankMetricsNamespace,
        metricName,
        dimensionsMap: { service: bankServiceName },
        period,
        statistic: cloudwatch.Stats.SUM,
      });
    this.add('PinLockouts', bankMetric(bankMetricNames.pinLockouts), {
      threshold: 1,
      description:
        'An account was locked after too many wrong PINs: a customer needs a teller, or someone is guessing PINs',
    });
    this.add('RefusedLogins', bankMetric(bankMetricNames.refusedLogins), {
      threshold: 50,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      description:
        'At least 50 refused logins in each of two five-minute periods: password guessing or credential stuffing',
    });
  }

  private add(
    id: string,
    metric: cloudwatch.IMetric,
    options: {
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
