import { routes } from '../functions/routes';
import { isPublic } from './auth/policy';
import { type ErrorCode, errorCodes, everyRouteErrors } from './errors';
import { approvalShape, problemShape, type RouteSpec, routeSpecs } from './schemas';
import * as z from './zod';

/**
 * The OpenAPI 3.1 document, generated from the route manifest and the zod schemas (zod's own
 * JSON Schema output is draft 2020-12, which is OpenAPI 3.1's dialect).
 */
type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parametersOf(spec: RouteSpec): Array<Record<string, unknown>> {
  const parameters: Array<Record<string, unknown>> = [];
  for (const [where, schema] of [
    ['path', spec.params],
    ['query', spec.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: property,
      });
    }
  }
  if (spec.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[\\x20-\\x7e]{1,100}$' },
      description:
        'Same key, same user, same body within 24 h replays the first response and moves no money.',
    });
  }
  return parameters;
}

/**
 * One response per status this route may refuse with, naming its error codes (`x-error-codes`
 * and the description), so a client knows e.g. that 403 here may be STEP_UP_REQUIRED.
 */
function errorResponsesOf(spec: RouteSpec, problem: unknown): Record<string, unknown> {
  const codes = new Set<ErrorCode>(spec.errors ?? []);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorCodes[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const code of everyRouteErrors) {
    const status = errorCodes[code];
    if (byStatus.has(status)) byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: `Refused: ${list.join(', ')}`,
      'x-error-codes': list,
      content: problem,
    };
  }
  return out;
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const problem = { 'application/problem+json': { schema: schemaOf(problemShape, 'output') } };
  for (const route of routes) {
    const spec: RouteSpec = routeSpecs[route.name];
    const operation: Record<string, unknown> = {
      operationId: route.name,
      summary: spec.summary,
      parameters: parametersOf(spec),
      responses: {
        [String(spec.successStatus)]: spec.response
          ? {
              description: 'Success',
              content: { 'application/json': { schema: schemaOf(spec.response, 'output') } },
            }
          : { description: 'Success, no content' },
        ...(spec.pendingApproval
          ? {
              '202': {
                description: "A teller's movement of at least the approval amount: nothing moved yet",
                content: { 'application/json': { schema: schemaOf(approvalShape, 'output') } },
              },
            }
          : {}),
        ...errorResponsesOf(spec, problem),
        '4XX': { description: 'Refused; see `code`', content: problem },
        '500': { description: 'Unexpected; nothing was changed', content: problem },
      },
    };
    if (spec.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: schemaOf(spec.body, 'input') } },
      };
    }
    if (!isPublic(route.name)) operation.security = [{ bearer: [] }];
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Bank API',
      version: '1.0.0',
      description: 'Customers, tellers and admins on one HTTPS API.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    'x-error-codes': errorCodes,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
