import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Response validation against the API's own OpenAPI document. References are resolved here,
 * defensively: today each schema carries its own `$defs` while its `$ref`s point at `#/$defs/...`
 * from the document root (which has none); a document that moves them to `components.schemas`
 * works too. Every `$ref` is inlined before ajv sees the schema.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function pointer(root: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Inlines every `$ref`: first against the `$defs` in scope (innermost first), then the document. */
export function resolveRefs(node: Json, document: Json, scopes: JsonObject[] = [], depth = 0): Json {
  if (depth > 40) throw new Error('schema references nest too deep (a cycle?)');
  if (Array.isArray(node)) return node.map((item) => resolveRefs(item, document, scopes, depth));
  if (!isObject(node)) return node;
  const defs = node.$defs;
  const inScope = isObject(defs) ? [defs, ...scopes] : scopes;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    let target: Json | undefined;
    const local = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (local?.[1]) {
      const name = decodeURIComponent(local[1]);
      for (const scope of inScope) {
        if (scope[name] !== undefined) {
          target = scope[name];
          break;
        }
      }
    }
    target ??= pointer(document, ref);
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
    const { $ref: _ref, $defs: _defs, ...siblings } = node;
    const resolved = resolveRefs(target, document, inScope, depth + 1);
    return Object.keys(siblings).length === 0
      ? resolved
      : { allOf: [resolved, resolveRefs(siblings, document, inScope, depth + 1)] };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$defs') continue;
    out[key] = resolveRefs(value, document, inScope, depth);
  }
  return out;
}

export interface OperationSpec {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly operationId: string;
  readonly secured: boolean;
  readonly requestSchema?: JsonObject;
  readonly parameters: readonly { name: string; in: string; required: boolean; schema: JsonObject }[];
  /** status key ('200', '4XX', 'default') -> media type -> validator */
  readonly responses: ReadonlyMap<string, ReadonlyMap<string, ValidateFunction>>;
}

export interface ResponseVerdict {
  readonly ok: boolean;
  readonly problem?: string;
}

export class OpenApiValidator {
  readonly operations: OperationSpec[] = [];

  constructor(document: unknown) {
    const doc = document as Json;
    if (!isObject(doc) || !isObject(doc.paths)) throw new Error('not an OpenAPI document');
    // strict: false because OpenAPI adds keywords (example, discriminator...) JSON Schema lacks.
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
    const addFormats = addFormatsModule as unknown as (a: Ajv2020) => Ajv2020;
    addFormats(ajv);
    for (const [template, item] of Object.entries(doc.paths)) {
      if (!isObject(item)) continue;
      for (const [method, operation] of Object.entries(item)) {
        if (!isObject(operation) || !isObject(operation.responses)) continue;
        const responses = new Map<string, Map<string, ValidateFunction>>();
        for (const [status, response] of Object.entries(operation.responses)) {
          const resolvedResponse = resolveRefs(response, doc);
          if (!isObject(resolvedResponse)) continue;
          const media = new Map<string, ValidateFunction>();
          if (isObject(resolvedResponse.content)) {
            for (const [type, content] of Object.entries(resolvedResponse.content)) {
              if (isObject(content) && isObject(content.schema))
                media.set(type, ajv.compile(resolveRefs(content.schema, doc) as JsonObject));
            }
          }
          responses.set(status, media);
        }
        const body = isObject(operation.requestBody) ? resolveRefs(operation.requestBody, doc) : undefined;
        const content =
          isObject(body) && isObject(body.content) ? body.content['application/json'] : undefined;
        const parameters = Array.isArray(operation.parameters)
          ? operation.parameters.flatMap((p) => {
              const r = resolveRefs(p, doc);
              return isObject(r) &&
                typeof r.name === 'string' &&
                typeof r.in === 'string' &&
                isObject(r.schema)
                ? [{ name: r.name, in: r.in, required: r.required === true, schema: r.schema }]
                : [];
            })
          : [];
        this.operations.push({
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(
            `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`,
          ),
          operationId:
            typeof operation.operationId === 'string' ? operation.operationId : `${method} ${template}`,
          secured: Array.isArray(operation.security) && operation.security.length > 0,
          ...(isObject(content) && isObject(content.schema) ? { requestSchema: content.schema } : {}),
          parameters,
          responses,
        });
      }
    }
  }

  /** The documented operation for a method and a decoded path, if any. */
  match(method: string, path: string): OperationSpec | undefined {
    return this.operations.find((op) => op.method === method && op.pattern.test(path));
  }

  /** Checks status, media type and body of one response against its operation. */
  validate(op: OperationSpec, status: number, contentType: string, body: unknown): ResponseVerdict {
    const key =
      [String(status), `${String(status)[0]}XX`, 'default'].find((k) => op.responses.has(k)) ?? undefined;
    if (key === undefined) return { ok: false, problem: `status ${status} is not documented` };
    const media = op.responses.get(key);
    if (!media || media.size === 0) return { ok: true };
    const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const validator = media.get(type);
    if (!validator) return { ok: false, problem: `status ${status}: media type ${type} is not documented` };
    if (validator(body)) return { ok: true };
    const first = validator.errors?.[0];
    return {
      ok: false,
      problem: `status ${status}: body does not match (${first?.instancePath ?? ''} ${first?.message ?? ''})`,
    };
  }
}
