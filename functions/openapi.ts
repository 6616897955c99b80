import middy from '@middy/core';
import { json } from '../shared/http';
import { bankStack } from '../shared/middleware/stack';
import { buildOpenApiDocument } from '../shared/openapi';

/** GET /openapi.json: generated from the zod schemas and the route manifest, never by hand. */
let document: unknown;
const core = async () => {
  document ??= buildOpenApiDocument();
  return json(200, document);
};

export const handler = middy(core).use(bankStack('openapi', { database: false }));
