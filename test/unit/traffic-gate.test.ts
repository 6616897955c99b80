import type { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { cloudWatchProbe, hadTraffic } from '../../shared/audit/traffic-gate';

/** The sealer's check before it touches the database: API requests counted by CloudWatch. */
describe('traffic gate', () => {
  it('asks CloudWatch for the API request count over the lookback, and sums the minutes', async () => {
    // Prepare
    const sent: GetMetricDataCommand[] = [];
    const client = {
      send: async (command: GetMetricDataCommand) => {
        sent.push(command);
        return { MetricDataResults: [{ Values: [0, 2, 1] }], $metadata: {} };
      },
    };
    const now = new Date('2026-06-01T12:00:00Z');
    // Act
    const busy = await hadTraffic(cloudWatchProbe(client as never, 'abc123'), now, 6);
    // Assess
    expect(busy).toBe(true);
    expect(sent[0]?.input).toEqual({
      StartTime: new Date('2026-06-01T11:54:00Z'),
      EndTime: now,
      MetricDataQueries: [
        {
          Id: 'requests',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApiGateway',
              MetricName: 'Count',
              Dimensions: [{ Name: 'ApiId', Value: 'abc123' }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    });
  });

  it('reports no traffic when CloudWatch has no data points or only zeros', async () => {
    const none = { send: async () => ({ MetricDataResults: [{ Values: [] }], $metadata: {} }) };
    const zeros = { send: async () => ({ MetricDataResults: [{ Values: [0, 0] }], $metadata: {} }) };
    const now = new Date();
    expect(await hadTraffic(cloudWatchProbe(none as never, 'abc123'), now, 6)).toBe(false);
    expect(await hadTraffic(cloudWatchProbe(zeros as never, 'abc123'), now, 6)).toBe(false);
  });
});
