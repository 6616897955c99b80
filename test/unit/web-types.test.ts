import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, typesFile } from '../../web/scripts/types';

describe("the console's API types", () => {
  it('are what openapi-typescript makes of the current OpenAPI document (npm run types:web)', async () => {
    const committed = readFileSync(typesFile, 'utf8');
    expect(committed, 'web/src/api/schema.ts is stale: run npm run types:web').toBe(await generateTypes());
    expect(committed).toContain('"/transfers"');
  });
});
