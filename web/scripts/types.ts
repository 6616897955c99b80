import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { buildOpenApiDocument } from '../../shared/openapi';

/** The console's API types, generated from the same OpenAPI document `GET /openapi.json` serves. */
export const typesFile = new URL('../src/api/schema.ts', import.meta.url);

export async function generateTypes(): Promise<string> {
  const ast = await openapiTS(buildOpenApiDocument() as unknown as OpenAPI3);
  return [
    '// Generated from the OpenAPI document by `npm run types:web` (web/scripts/types.ts). Do not edit:',
    '// a test fails when this file and the document differ.',
    '',
    astToString(ast),
  ].join('\n');
}
