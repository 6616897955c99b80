import middy from '@middy/core';
import { config } from '../shared/config';
import { callJson } from '../shared/db/data-api';
import { json } from '../shared/http';
import { logger } from '../shared/logger';
import { bankStack } from '../shared/middleware/stack';

/**
 * GET /health: the function, and the database behind it, as a script or load balancer needs to
 * know: 200 `{status:"ok", database:"up"}`, or 503 `{status:"unavailable", database:"down"}`
 * when a trivial statement does not come back within `checkTimeoutMs`. Not audited. A function
 * given no database secret (the cloud stack grants health none yet) says `"not checked"`.
 */
const checkTimeoutMs = 3_000;

async function databaseUp(): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), checkTimeoutMs);
  });
  try {
    return await Promise.race([
      callJson('bank_customer', 'SELECT to_jsonb(1)::text', []).then((v) => v === 1),
      timeout,
    ]);
  } catch (error) {
    logger.warn('health: the database check failed', { errorName: (error as Error)?.name, error });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const core = async () => {
  if (!config().BANK_DB_SECRET_ARN_BANK_CUSTOMER) return json(200, { status: 'ok', database: 'not checked' });
  return (await databaseUp())
    ? json(200, { status: 'ok', database: 'up' })
    : json(503, { status: 'unavailable', database: 'down' });
};

export const handler = middy(core).use(bankStack('health', { database: false }));
