import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';

/**
 * Whether the API has served requests lately, from CloudWatch and without touching the
 * database: the sealer runs every minute but wakes a paused Aurora only when requests have woken
 * it anyway. Every event to seal comes from a request, and the API's request count reaches
 * CloudWatch within a minute or two; the lookback covers that delay and the schedule's period.
 */
export type TrafficProbe = (from: Date, to: Date) => Promise<number>;

export async function hadTraffic(probe: TrafficProbe, now: Date, lookbackMinutes: number): Promise<boolean> {
  return (await probe(new Date(now.getTime() - lookbackMinutes * 60_000), now)) > 0;
}

/** Requests the HTTP API counted (AWS/ApiGateway Count, dimension ApiId) in [from, to]. */
export function cloudWatchProbe(client: Pick<CloudWatchClient, 'send'>, apiId: string): TrafficProbe {
  return async (from, to) => {
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: from,
        EndTime: to,
        MetricDataQueries: [
          {
            Id: 'requests',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApiGateway',
                MetricName: 'Count',
                Dimensions: [{ Name: 'ApiId', Value: apiId }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    return (out.MetricDataResults ?? []).flatMap((r) => r.Values ?? []).reduce((a, b) => a + b, 0);
  };
}
