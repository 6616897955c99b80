import middy from '@middy/core';
import { json } from '../shared/http';
import { bankStack } from '../shared/middleware/stack';

/** GET /health: liveness of the function itself; touches no database (and is not audited). */
const core = async () => json(200, { status: 'ok' });

export const handler = middy(core).use(bankStack('health', { database: false }));
