import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RouteName } from '../../functions/routes';
import type { BankContext } from '../../shared/middleware/context';

/**
 * The bank's EMF metrics as the middleware writes them. The suite runs with metrics disabled
 * (vitest.config.ts) so handler tests stay quiet; this file turns them on and reads stdout.
 */
async function run(
  route: RouteName,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.resetModules();
  const { bankMetrics } = await import('../../shared/middleware/observability');
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const context = {
      bank: { input: { body, params: undefined, query: undefined } },
    } as unknown as BankContext;
    const after = bankMetrics(route).after;
    if (typeof after !== 'function') throw new Error('no after hook');
    await after({ response: { statusCode, headers }, context } as never);
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map(
      (l) =>
        JSON.parse(l) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> };
        },
    );
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('bank metrics (EMF)', () => {
  it('counts a completed deposit and its amount in cents, by kind', async () => {
    const lines = await run('accounts.deposit', 201, { amount: '12.34' });
    for (const line of lines) expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('Bank');
    // One line per metric (a single-metric logger, so the kind dimension stays off other figures).
    expect(lines.find((l) => 'Movements' in l)).toMatchObject({
      kind: 'deposit',
      service: 'bank',
      Movements: 1,
    });
    expect(lines.find((l) => 'AmountMovedMinor' in l)).toMatchObject({
      kind: 'deposit',
      AmountMovedMinor: 1234,
    });
  });

  it('counts nothing for a refused movement or an idempotent replay', async () => {
    expect(await run('transfers.create', 422, { amount: '5.00' })).toEqual([]);
    expect(await run('transfers.create', 201, { amount: '5.00' }, { 'idempotent-replayed': 'true' })).toEqual(
      [],
    );
  });

  it('counts refused logins (401 and 429), not successful ones', async () => {
    const [refused] = await run('auth.login', 401, undefined);
    expect(refused).toMatchObject({ RefusedLogins: 1 });
    expect(await run('auth.login', 429, undefined)).toHaveLength(1);
    expect(await run('auth.login', 200, undefined)).toEqual([]);
  });
});
