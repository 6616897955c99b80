import { titleOf } from '../../shared/errors';
import { amountMinorMax, formatMinor } from '../../shared/money';

/**
 * The API reference at /docs: one static HTML page generated at build time (web/scripts/build.ts)
 * from the OpenAPI document that `GET /openapi.json` serves, styled by web/docs/docs.css. It needs
 * no script, so it renders whole under the console's strict Content-Security-Policy and passes
 * axe with every rule on. The document is ours, but here it is data: every string taken from it
 * is escaped, every id is made of safe characters, and a reference to a schema the document does
 * not hold is shown as text, never as a link that leads nowhere.
 */

type Json = Record<string, unknown>;

const entities: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/** A description: escaped, with `backtick spans` as <code> (the only markup the document uses). */
export function inlineText(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    out += `${escapeHtml(text.slice(last, m.index))}<code>${escapeHtml(m[1] ?? '')}</code>`;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(text.slice(last));
}

// ---- reading the document as data -------------------------------------------------------------

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function objectAt(value: unknown, key: string): Json {
  const inner = isObject(value) ? value[key] : undefined;
  return isObject(inner) ? inner : {};
}
function stringAt(value: unknown, key: string): string | undefined {
  const inner = isObject(value) ? value[key] : undefined;
  return typeof inner === 'string' ? inner : undefined;
}
function numberAt(value: unknown, key: string): number | undefined {
  const inner = isObject(value) ? value[key] : undefined;
  return typeof inner === 'number' && Number.isFinite(inner) ? inner : undefined;
}
function arrayAt(value: unknown, key: string): unknown[] {
  const inner = isObject(value) ? value[key] : undefined;
  return Array.isArray(inner) ? inner : [];
}
function stringsAt(value: unknown, key: string): string[] {
  const inner = isObject(value) ? value[key] : undefined;
  if (typeof inner === 'string') return [inner];
  return Array.isArray(inner) ? inner.filter((x): x is string => typeof x === 'string') : [];
}
function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

const schemaPrefix = '#/components/schemas/';
/** The component a `$ref` names (`#/components/schemas/Name`), or undefined for any other ref. */
function refName(schema: unknown): string | undefined {
  const ref = stringAt(schema, '$ref');
  if (ref === undefined || !ref.startsWith(schemaPrefix)) return undefined;
  return ref.slice(schemaPrefix.length).replaceAll('~1', '/').replaceAll('~0', '~');
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Operation {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly tag: string;
  readonly raw: Json;
}

const successReasons: Readonly<Record<string, string>> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No Content',
};
function reasonOf(status: string): string {
  const success = successReasons[status];
  if (success !== undefined) return success;
  const title = /^\d{3}$/.test(status) ? titleOf(Number(status)) : '';
  return title === 'Error' ? '' : title;
}

/**
 * zod writes out the regular expression behind `format` (a uuid's, a date-time's); the format
 * says it better, so those patterns are not shown.
 */
const formatsWithOwnPattern = new Set(['uuid', 'date-time', 'date', 'time', 'email', 'uri', 'ipv4', 'ipv6']);

/** JavaScript's safe-integer bounds: zod's default for an integer, which "integer" already says. */
const safeInteger = Number.MAX_SAFE_INTEGER;

/** The placeholder an example built from a schema uses where the schema gives no example. */
const uuidPlaceholder = '0b4a8d43-8c63-4a53-9b1e-6d0b9f3b2c11';

// ---- ids ----------------------------------------------------------------------------------------

/** Unique, safe element ids, one per (kind, key); the fixed section ids are taken first. */
class Anchors {
  private readonly used = new Set<string>();
  private readonly byKey = new Map<string, string>();

  constructor(reserved: readonly string[]) {
    for (const id of reserved) this.used.add(id);
  }

  of(kind: string, key: string): string {
    const k = `${kind}\u0000${key}`;
    const known = this.byKey.get(k);
    if (known !== undefined) return known;
    const base = `${kind}-${key.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'x'}`;
    let id = base;
    for (let n = 2; this.used.has(id); n += 1) id = `${base}-${n}`;
    this.used.add(id);
    this.byKey.set(k, id);
    return id;
  }
}

const sections = {
  main: 'main',
  contents: 'contents',
  overview: 'overview',
  authentication: 'authentication',
  conventions: 'conventions',
  errorCodes: 'error-codes',
  operations: 'operations',
  schemas: 'schemas',
} as const;

// ---- the page -----------------------------------------------------------------------------------

export interface ReferenceOptions {
  /** Where the document is downloaded from. */
  readonly documentUrl?: string;
  /** The console, for the way back. */
  readonly consoleUrl?: string;
  /** The stylesheet. */
  readonly stylesheetUrl?: string;
}

/** The whole page, from the OpenAPI document (`buildOpenApiDocument()`). */
export function renderReference(doc: unknown, options: ReferenceOptions = {}): string {
  return new Reference(doc, options).render();
}

class Reference {
  private readonly anchors = new Anchors(Object.values(sections));
  private readonly schemas: Json;
  private readonly operations: Operation[] = [];
  private readonly tags: string[];
  private readonly errorCodes: Array<[string, number]>;
  private readonly documentUrl: string;
  private readonly consoleUrl: string;
  private readonly stylesheetUrl: string;

  constructor(
    private readonly doc: unknown,
    options: ReferenceOptions,
  ) {
    this.documentUrl = options.documentUrl ?? '/openapi.json';
    this.consoleUrl = options.consoleUrl ?? '/console/';
    this.stylesheetUrl = options.stylesheetUrl ?? '/docs/docs.css';
    this.schemas = objectAt(objectAt(doc, 'components'), 'schemas');
    for (const [path, item] of Object.entries(objectAt(doc, 'paths'))) {
      for (const method of methods) {
        const raw = isObject(item) ? item[method] : undefined;
        if (!isObject(raw)) continue;
        this.operations.push({
          key: stringAt(raw, 'operationId') ?? `${method} ${path}`,
          method,
          path,
          tag: stringsAt(raw, 'tags')[0] ?? 'other',
          raw,
        });
      }
    }
    this.tags = unique(this.operations.map((op) => op.tag));
    this.errorCodes = Object.entries(objectAt(doc, 'x-error-codes')).flatMap(([code, status]) =>
      typeof status === 'number' ? [[code, status] as [string, number]] : [],
    );
  }

  private opId(op: Operation): string {
    return this.anchors.of('op', op.key);
  }
  private schemaId(name: string): string {
    return this.anchors.of('schema', name);
  }
  private tagId(tag: string): string {
    return this.anchors.of('tag', tag);
  }
  private codeId(code: string): string {
    return this.anchors.of('code', code);
  }

  /** `POST /transfers`; `breakable`: a long path may wrap after a slash (the narrow contents). */
  private opLabel(op: Operation, breakable = false): string {
    const path = escapeHtml(op.path);
    return `<span class="method method-${escapeHtml(op.method)}">${escapeHtml(op.method.toUpperCase())}</span> <code class="path">${breakable ? path.replaceAll('/', '/<wbr>') : path}</code>`;
  }
  private opLink(op: Operation, breakable = false): string {
    return `<a href="#${this.opId(op)}">${this.opLabel(op, breakable)}</a>`;
  }
  /** A schema of components.schemas (its own keys only: a ref to `constructor` finds nothing). */
  private schemaNamed(name: string): Json | undefined {
    const schema = Object.hasOwn(this.schemas, name) ? this.schemas[name] : undefined;
    return isObject(schema) ? schema : undefined;
  }
  private schemaLink(name: string): string {
    return this.schemaNamed(name) !== undefined
      ? `<a class="ref" href="#${this.schemaId(name)}">${escapeHtml(name)}</a>`
      : `<code>${escapeHtml(name)}</code>`;
  }
  private codeLink(code: string): string {
    return this.errorCodes.some(([c]) => c === code)
      ? `<a class="ref" href="#${this.codeId(code)}">${escapeHtml(code)}</a>`
      : `<code>${escapeHtml(code)}</code>`;
  }
  private byOperationId(id: string): Operation | undefined {
    return this.operations.find((op) => stringAt(op.raw, 'operationId') === id);
  }

  render(): string {
    const info = objectAt(this.doc, 'info');
    const title = stringAt(info, 'title') ?? 'API';
    const version = stringAt(info, 'version');
    const openapi = stringAt(this.doc, 'openapi');
    return [
      '<!doctype html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      `<title>${escapeHtml(title)} reference</title>`,
      '<link rel="icon" href="data:,">',
      `<link rel="stylesheet" href="${escapeHtml(this.stylesheetUrl)}">`,
      '</head>',
      '<body>',
      '<header class="top">',
      `<a class="skip" href="#${sections.main}">Skip to the reference</a>`,
      '<div class="brand">',
      `<h1>${escapeHtml(title)} reference</h1>`,
      `<p class="version">${version !== undefined ? `Version ${escapeHtml(version)}` : ''}${openapi !== undefined ? ` · OpenAPI ${escapeHtml(openapi)}` : ''}</p>`,
      '</div>',
      '<nav class="links" aria-label="Elsewhere">',
      '<ul>',
      `<li><a href="${escapeHtml(this.documentUrl)}" download="openapi.json">Download the OpenAPI document (JSON)</a></li>`,
      `<li><a href="${escapeHtml(this.consoleUrl)}">Back to the console</a></li>`,
      '</ul>',
      '</nav>',
      '</header>',
      '<div class="layout">',
      this.contents(),
      `<main id="${sections.main}">`,
      this.overview(info),
      this.authentication(),
      this.conventions(),
      this.errorCodeTable(),
      this.operationSections(),
      this.schemaSections(),
      '</main>',
      '</div>',
      '<footer class="bottom">',
      `<p>Generated from <a href="${escapeHtml(this.documentUrl)}">${escapeHtml(this.documentUrl)}</a> when the console was built; the document is the contract.</p>`,
      '</footer>',
      '</body>',
      '</html>',
      '',
    ].join('\n');
  }

  // ---- table of contents ----------------------------------------------------------------------

  private contents(): string {
    const tagItems = this.tags.map((tag) => {
      const ops = this.operations
        .filter((op) => op.tag === tag)
        .map((op) => `<li>${this.opLink(op, true)}</li>`)
        .join('');
      return `<li><a href="#${this.tagId(tag)}">${escapeHtml(tag)}</a><ul>${ops}</ul></li>`;
    });
    const schemaItems = Object.keys(this.schemas).map(
      (name) => `<li><a href="#${this.schemaId(name)}">${escapeHtml(name)}</a></li>`,
    );
    return [
      `<nav class="toc" aria-labelledby="${sections.contents}">`,
      `<h2 id="${sections.contents}">Contents</h2>`,
      '<ul>',
      `<li><a href="#${sections.overview}">Overview</a></li>`,
      `<li><a href="#${sections.authentication}">Authentication</a></li>`,
      `<li><a href="#${sections.conventions}">Conventions</a></li>`,
      `<li><a href="#${sections.errorCodes}">Error codes</a></li>`,
      `<li><a href="#${sections.operations}">Operations</a><ul class="tags">${tagItems.join('')}</ul></li>`,
      `<li><a href="#${sections.schemas}">Schemas</a><ul class="schema-list">${schemaItems.join('')}</ul></li>`,
      '</ul>',
      '</nav>',
    ].join('\n');
  }

  // ---- overview, authentication, conventions, error codes -------------------------------------

  private overview(info: Json): string {
    const description = stringAt(info, 'description');
    const servers = arrayAt(this.doc, 'servers').filter(isObject);
    const serverItems = servers.map((server) => {
      const url = stringAt(server, 'url') ?? '';
      const what = stringAt(server, 'description');
      return `<li><code>${escapeHtml(url)}</code>${what !== undefined ? `: ${inlineText(what)}` : ''}</li>`;
    });
    return [
      `<section id="${sections.overview}">`,
      '<h2>Overview</h2>',
      description !== undefined ? `<p>${inlineText(description)}</p>` : '',
      `<p>${this.operations.length} operations in ${this.tags.length} groups, and ${Object.keys(this.schemas).length} schemas. The machine-readable document is <a href="${escapeHtml(this.documentUrl)}"><code>${escapeHtml(this.documentUrl)}</code></a>.</p>`,
      servers.length > 0 ? `<h3>Servers</h3><ul>${serverItems.join('')}</ul>` : '',
      '</section>',
    ].join('\n');
  }

  private authentication(): string {
    const schemes = Object.entries(objectAt(objectAt(this.doc, 'components'), 'securitySchemes'));
    const schemeItems = schemes.map(([name, scheme]) => {
      const type = stringAt(scheme, 'type') ?? '';
      const how = stringAt(scheme, 'scheme');
      const format = stringAt(scheme, 'bearerFormat');
      if (type === 'http' && how?.toLowerCase() === 'bearer') {
        return `<li><code>${escapeHtml(name)}</code>: the header <code>Authorization: Bearer &lt;token&gt;</code>${format !== undefined ? `, the token a ${escapeHtml(format)}` : ''}.</li>`;
      }
      return `<li><code>${escapeHtml(name)}</code>: ${escapeHtml(type)}${how !== undefined ? ` (${escapeHtml(how)})` : ''}.</li>`;
    });
    const login = this.byOperationId('auth.login');
    const refresh = this.byOperationId('auth.refresh');
    const logout = this.byOperationId('auth.logout');
    const open = this.operations.filter((op) => !Array.isArray(op.raw.security));
    const forbidden = this.errorCodes.some(([c]) => c === 'FORBIDDEN');
    return [
      `<section id="${sections.authentication}">`,
      '<h2>Authentication</h2>',
      `<ul>${schemeItems.join('')}</ul>`,
      login !== undefined
        ? `<p>${this.opLink(login)} trades a username and password (and a one-time code once the user has enrolled one) for an access token.${refresh !== undefined ? ` ${this.opLink(refresh)} trades a live token for a new one of the same session;` : ''}${logout !== undefined ? ` ${this.opLink(logout)} ends the session.` : ''}</p>`
        : '',
      open.length > 0
        ? `<p>Public operations, which need no token: ${open.map((op) => this.opLink(op)).join(', ')}. Every other operation names the roles allowed to call it${forbidden ? `; a token of any other role is refused with ${this.codeLink('FORBIDDEN')}` : ''}.</p>`
        : '',
      '</section>',
    ].join('\n');
  }

  private conventions(): string {
    const idempotent = this.operations.filter((op) =>
      arrayAt(op.raw, 'parameters').some(
        (p) => stringAt(p, 'in') === 'header' && stringAt(p, 'name')?.toLowerCase() === 'idempotency-key',
      ),
    );
    const paged = this.operations.filter((op) =>
      arrayAt(op.raw, 'parameters').some(
        (p) => stringAt(p, 'in') === 'query' && stringAt(p, 'name') === 'cursor',
      ),
    );
    const problem = this.schemaNamed('Problem');
    const members = problem ? stringsAt(problem, 'required') : [];
    const extra = problem
      ? Object.keys(objectAt(problem, 'properties')).filter((m) => !members.includes(m))
      : [];
    const codes = (list: readonly string[]) => list.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ');
    const example = {
      type: 'about:blank',
      title: titleOf(422),
      status: 422,
      detail: 'the balance is lower than the amount',
      code: 'INSUFFICIENT_FUNDS',
      requestId: uuidPlaceholder,
    };
    return [
      `<section id="${sections.conventions}">`,
      '<h2>Conventions</h2>',
      '<h3>JSON</h3>',
      '<p>Bodies are JSON in and out, with <code>content-type: application/json</code>. A request body with a field its schema does not name is refused (400). Times are ISO 8601 instants in UTC; ids are UUID strings.</p>',
      '<h3>Money</h3>',
      '<p>Amounts are decimal strings in the bank’s single currency, such as <code>"1234.50"</code>, never JSON numbers. A request’s amount has at most two fraction digits, is more than 0 and at most <code>"' +
        formatMinor(amountMinorMax) +
        '"</code>; a response’s always has exactly two fraction digits.</p>',
      '<h3>Idempotency-Key</h3>',
      `<p>The operations that move money take an <code>Idempotency-Key</code> header (1 to 100 printable ASCII characters)${idempotent.length > 0 ? `: ${idempotent.map((op) => this.opLink(op)).join(', ')}` : ''}. The same key from the same user with the same body within 24 hours replays the first response, with the header <code>Idempotent-Replayed: true</code>, and moves no money; the same key with a different body is refused with ${this.codeLink('IDEMPOTENCY_KEY_REUSED')}.</p>`,
      '<h3>Errors</h3>',
      `<p>Every error is <code>application/problem+json</code> (RFC 9457), with the members ${codes(members)}${extra.length > 0 ? `, and where a code needs them ${codes(extra)}` : ''}: see ${this.schemaLink('Problem')}. The <code>code</code> is stable; each operation lists the codes it can return under their status, and <a href="#${sections.errorCodes}">Error codes</a> lists them all. Every response carries an <code>x-request-id</code> header.</p>`,
      '<figure>',
      `<figcaption>An error, for example</figcaption>`,
      `<pre><code>${escapeHtml(JSON.stringify(example, null, 2))}</code></pre>`,
      '</figure>',
      '<h3>Lists</h3>',
      `<p>Lists take <code>?limit=</code> (1 to 100, 20 when not given) and <code>?cursor=</code>, and answer <code>{"items": [...], "nextCursor": string | null}</code>, newest first${paged.length > 0 ? `: ${paged.map((op) => this.opLink(op)).join(', ')}` : ''}.</p>`,
      '</section>',
    ].join('\n');
  }

  private errorCodeTable(): string {
    const rows = this.errorCodes.map(([code, status]) => {
      const users = this.operations.filter((op) =>
        Object.values(objectAt(op.raw, 'responses')).some((r) => stringsAt(r, 'x-codes').includes(code)),
      );
      return `<tr id="${this.codeId(code)}"><th scope="row" class="name">${escapeHtml(code)}</th><td>${status} ${escapeHtml(reasonOf(String(status)))}</td><td>${users.length}</td></tr>`;
    });
    return [
      `<section id="${sections.errorCodes}">`,
      '<h2>Error codes</h2>',
      '<p>Every <code>code</code> an error can carry, with its HTTP status (<code>x-error-codes</code>).</p>',
      '<table class="codes-table">',
      '<caption>Error codes and their status</caption>',
      '<thead><tr><th scope="col">Code</th><th scope="col">Status</th><th scope="col">Operations that can return it</th></tr></thead>',
      `<tbody>${rows.join('\n')}</tbody>`,
      '</table>',
      '</section>',
    ].join('\n');
  }

  // ---- operations -----------------------------------------------------------------------------

  private operationSections(): string {
    const groups = this.tags.map((tag) => {
      const ops = this.operations.filter((op) => op.tag === tag).map((op) => this.operation(op));
      return [
        `<section id="${this.tagId(tag)}" class="tag">`,
        `<h3>${escapeHtml(tag)}</h3>`,
        ...ops,
        '</section>',
      ].join('\n');
    });
    return [`<section id="${sections.operations}">`, '<h2>Operations</h2>', ...groups, '</section>'].join(
      '\n',
    );
  }

  private operation(op: Operation): string {
    const summary = stringAt(op.raw, 'summary');
    const description = stringAt(op.raw, 'description');
    const roles = stringsAt(op.raw, 'x-roles');
    const secured = Array.isArray(op.raw.security) && op.raw.security.length > 0;
    const operationId = stringAt(op.raw, 'operationId');
    const label = `${op.method.toUpperCase()} ${op.path}`;
    return [
      `<section id="${this.opId(op)}" class="operation">`,
      `<h4>${this.opLabel(op)}</h4>`,
      summary !== undefined ? `<p class="summary">${inlineText(summary)}</p>` : '',
      description !== undefined ? `<p>${inlineText(description)}</p>` : '',
      '<dl class="facts">',
      `<div><dt>Roles allowed</dt><dd><ul class="roles">${roles.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul></dd></div>`,
      `<div><dt>Authentication</dt><dd>${secured ? 'Bearer token' : 'None'}</dd></div>`,
      operationId !== undefined
        ? `<div><dt>Operation id</dt><dd><code>${escapeHtml(operationId)}</code></dd></div>`
        : '',
      '</dl>',
      this.parameters(op, label),
      this.requestBody(op, label),
      this.responses(op, label),
      '</section>',
    ].join('\n');
  }

  private parameters(op: Operation, label: string): string {
    const parameters = arrayAt(op.raw, 'parameters').filter(isObject);
    if (parameters.length === 0) return '';
    const rows = parameters.map((p) => {
      const schema = objectAt(p, 'schema');
      const description = stringAt(p, 'description') ?? stringAt(schema, 'description');
      return [
        '<tr>',
        `<th scope="row" class="name">${escapeHtml(stringAt(p, 'name') ?? '')}</th>`,
        `<td>${escapeHtml(stringAt(p, 'in') ?? '')}</td>`,
        `<td>${this.typeLabel(schema)}</td>`,
        `<td>${p.required === true ? 'yes' : 'no'}</td>`,
        `<td class="constraints">${this.constraintList(schema)}</td>`,
        `<td>${description !== undefined ? inlineText(description) : ''}</td>`,
        '</tr>',
      ].join('');
    });
    return [
      '<h5>Parameters</h5>',
      '<table class="fields">',
      `<caption class="visually-hidden">Parameters of ${escapeHtml(label)}</caption>`,
      '<thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Constraints</th><th scope="col">Description</th></tr></thead>',
      `<tbody>${rows.join('\n')}</tbody>`,
      '</table>',
    ].join('\n');
  }

  private requestBody(op: Operation, label: string): string {
    const body = objectAt(op.raw, 'requestBody');
    const content = Object.entries(objectAt(body, 'content'));
    if (content.length === 0) return '';
    const parts = content.map(([mediaType, media]) => {
      const schema = objectAt(media, 'schema');
      const name = refName(schema);
      const target = (name !== undefined ? this.schemaNamed(name) : undefined) ?? schema;
      return [
        `<p><code>${escapeHtml(mediaType)}</code>${body.required === true ? ', required' : ''}: ${this.typeLabel(schema)}.</p>`,
        this.schemaBody(target, `Fields of the request body of ${label}`),
        this.examples(media, 'Request example'),
      ].join('\n');
    });
    return ['<h5>Request body</h5>', ...parts].join('\n');
  }

  private responses(op: Operation, label: string): string {
    const responses = Object.entries(objectAt(op.raw, 'responses'));
    if (responses.length === 0) return '';
    const rows = responses.map(([status, response]) => {
      const codes = stringsAt(response, 'x-codes');
      const description = stringAt(response, 'description');
      const bodies = Object.entries(objectAt(response, 'content')).map(
        ([mediaType, media]) => `${escapeHtml(mediaType)}: ${this.typeLabel(objectAt(media, 'schema'))}`,
      );
      const headers = Object.entries(objectAt(response, 'headers')).map(([name, header]) => {
        const what = stringAt(header, 'description');
        return `header <code>${escapeHtml(name)}</code> (${this.typeLabel(objectAt(header, 'schema'))})${what !== undefined ? `: ${inlineText(what)}` : ''}`;
      });
      const reason = reasonOf(status);
      return [
        `<tr class="status-${escapeHtml(status.charAt(0))}xx">`,
        `<th scope="row">${escapeHtml(status)}${reason !== '' ? ` ${escapeHtml(reason)}` : ''}</th>`,
        `<td>${this.meaning(description ?? '', codes)}</td>`,
        `<td>${[...bodies, ...headers].join('<br>') || 'none'}</td>`,
        '</tr>',
      ].join('');
    });
    const examples = responses.flatMap(([status, response]) =>
      status.startsWith('2')
        ? Object.entries(objectAt(response, 'content')).map(([mediaType, media]) =>
            this.examples(media, `Example ${status} response`, mediaType.includes('json')),
          )
        : [],
    );
    return [
      '<h5>Responses</h5>',
      '<table class="responses">',
      `<caption class="visually-hidden">Responses of ${escapeHtml(label)}</caption>`,
      '<thead><tr><th scope="col">Status</th><th scope="col">Codes and meaning</th><th scope="col">Body</th></tr></thead>',
      `<tbody>${rows.join('\n')}</tbody>`,
      '</table>',
      ...examples,
    ].join('\n');
  }

  /**
   * A response's codes, each linked to the table of codes, with what it means. The document
   * describes an error status as "`CODE`: when; `OTHER`: when" in the order of `x-codes`: each
   * code's words go beside it. A description of any other form is shown whole, after the codes.
   */
  private meaning(description: string, codes: readonly string[]): string {
    if (codes.length === 0) return inlineText(description);
    const starts = codes.map((code) => description.indexOf(`\`${code}\`: `));
    const paired = starts.every((at, i) => (i === 0 ? at === 0 : at > (starts[i - 1] ?? Number.MAX_VALUE)));
    if (!paired) return `${codes.map((c) => this.codeLink(c)).join(' ')}<br>${inlineText(description)}`;
    return codes
      .map((code, i) => {
        const from = (starts[i] ?? 0) + code.length + 4;
        const to = starts[i + 1] ?? description.length;
        return `${this.codeLink(code)}: ${inlineText(description.slice(from, to).replace(/;\s*$/, ''))}`;
      })
      .join('<br>');
  }

  /**
   * The examples a media type carries; with none and `build`, one built from its schema (the
   * schema's own field examples where it has them, placeholders elsewhere), said as such.
   */
  private examples(media: unknown, caption: string, build = false): string {
    const named = Object.entries(objectAt(media, 'examples')).flatMap(([name, example]) =>
      isObject(example) && 'value' in example ? [{ name, value: example.value }] : [],
    );
    if (isObject(media) && 'example' in media) named.unshift({ name: 'example', value: media.example });
    const figure = (title: string, value: unknown) =>
      `<figure><figcaption>${title}</figcaption><pre><code>${escapeHtml(JSON.stringify(value, null, 2) ?? 'null')}</code></pre></figure>`;
    if (named.length > 0) {
      return named
        .map(({ name, value }) =>
          figure(
            named.length > 1 || name !== 'example'
              ? `${escapeHtml(caption)}: ${escapeHtml(name)}`
              : escapeHtml(caption),
            value,
          ),
        )
        .join('\n');
    }
    const schema = objectAt(media, 'schema');
    if (!build || Object.keys(schema).length === 0) return '';
    return figure(
      `${escapeHtml(caption)}, built from the schema (its own field examples, placeholders elsewhere)`,
      this.exampleOf(schema, new Set()),
    );
  }

  // ---- schemas --------------------------------------------------------------------------------

  private schemaSections(): string {
    const items = Object.entries(this.schemas).map(([name, schema]) => {
      const ref = JSON.stringify({ $ref: `${schemaPrefix}${name}` }).slice(1, -1);
      const usedBy = this.operations.filter((op) => JSON.stringify(op.raw).includes(ref));
      const inSchemas = Object.entries(this.schemas)
        .filter(([other, s]) => other !== name && JSON.stringify(s).includes(ref))
        .map(([other]) => this.schemaLink(other));
      const uses = [...usedBy.map((op) => this.opLink(op)), ...inSchemas];
      return [
        `<section id="${this.schemaId(name)}" class="schema">`,
        `<h3><code>${escapeHtml(name)}</code></h3>`,
        stringAt(schema, 'description') !== undefined
          ? `<p>${inlineText(stringAt(schema, 'description') ?? '')}</p>`
          : '',
        uses.length > 0 ? `<p class="used-by">Used by ${uses.join(', ')}.</p>` : '',
        this.schemaBody(schema, `Fields of ${name}`),
        '</section>',
      ].join('\n');
    });
    return [
      `<section id="${sections.schemas}">`,
      '<h2>Schemas</h2>',
      '<p>The named schemas (<code>components.schemas</code>) that the operations refer to.</p>',
      ...items,
      '</section>',
    ].join('\n');
  }

  /** A schema as a field table (nested inline objects indented under their field) or a sentence. */
  private schemaBody(schema: unknown, caption: string): string {
    if (!isObject(schema)) return '<p>Any JSON value.</p>';
    const properties = objectAt(schema, 'properties');
    const closed = schema.additionalProperties === false;
    if (Object.keys(properties).length > 0) {
      const rows: string[] = [];
      this.fieldRows(schema, '', 0, rows);
      return [
        '<table class="fields">',
        `<caption>${escapeHtml(caption)}</caption>`,
        '<thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Constraints</th><th scope="col">Description</th></tr></thead>',
        `<tbody>${rows.join('\n')}</tbody>`,
        '</table>',
        closed ? '<p class="note">No other fields.</p>' : '',
      ].join('\n');
    }
    if ('properties' in schema && closed) return '<p>An empty object, <code>{}</code>: no fields.</p>';
    const constraints = this.constraints(schema);
    return `<p>${this.typeLabel(schema)}${constraints.length > 0 ? `: ${constraints.join('; ')}` : ''}.</p>`;
  }

  private fieldRows(schema: Json, prefix: string, depth: number, out: string[]): void {
    const required = new Set(stringsAt(schema, 'required'));
    for (const [name, property] of Object.entries(objectAt(schema, 'properties'))) {
      const field = `${prefix}${name}`;
      const description = stringAt(property, 'description');
      out.push(
        [
          '<tr>',
          `<th scope="row" class="name depth-${Math.min(depth, 4)}">${escapeHtml(field)}</th>`,
          `<td>${this.typeLabel(property)}</td>`,
          `<td>${required.has(name) ? 'yes' : 'no'}</td>`,
          `<td class="constraints">${this.constraintList(property)}</td>`,
          `<td>${description !== undefined ? inlineText(description) : ''}</td>`,
          '</tr>',
        ].join(''),
      );
      const nested = nestedObject(property);
      if (nested !== undefined && depth < 4) {
        this.fieldRows(nested.schema, `${field}${nested.array ? '[]' : ''}.`, depth + 1, out);
      }
    }
  }

  /** A schema's type in words, with named schemas linked. */
  private typeLabel(schema: unknown): string {
    if (!isObject(schema) || Object.keys(schema).length === 0) return 'any';
    const name = refName(schema);
    if (name !== undefined) return this.schemaLink(name);
    if (typeof schema.$ref === 'string') return `<code>${escapeHtml(schema.$ref)}</code>`;
    for (const key of ['anyOf', 'oneOf']) {
      const parts = arrayAt(schema, key);
      if (parts.length > 0) return unique(parts.map((p) => this.typeLabel(p))).join(' or ');
    }
    const all = arrayAt(schema, 'allOf');
    if (all.length > 0) {
      // An inline part beside a named one only narrows it (a Problem whose `code` is one of ...).
      const named = all.filter((p) => refName(p) !== undefined);
      return unique((named.length > 0 ? named : all).map((p) => this.typeLabel(p))).join(' and ');
    }
    const types = stringsAt(schema, 'type');
    if (types.length === 0) {
      if ('const' in schema) return escapeHtml(jsonType(schema.const));
      const first = arrayAt(schema, 'enum')[0];
      if (first !== undefined) return escapeHtml(jsonType(first));
      if ('properties' in schema) return 'object';
      return 'any';
    }
    const format = stringAt(schema, 'format');
    return unique(
      types.map((type) => {
        if (type === 'array') return `array of ${this.typeLabel(schema.items)}`;
        if (type !== 'object' && type !== 'null' && format !== undefined)
          return `${escapeHtml(type)} (${escapeHtml(format)})`;
        if (type === 'object' && !('properties' in schema) && isObject(schema.additionalProperties))
          return 'object (any keys)';
        return escapeHtml(type);
      }),
    ).join(' or ');
  }

  private constraintList(schema: unknown): string {
    const list = this.constraints(schema);
    return list.join('<br>');
  }

  /** What a value must be beyond its type: enum, pattern, lengths, bounds; and its example. */
  private constraints(schema: unknown): string[] {
    if (!isObject(schema) || refName(schema) !== undefined) return [];
    const out: string[] = [];
    if ('const' in schema) out.push(`always ${json(schema.const)}`);
    const values = arrayAt(schema, 'enum');
    if (values.length > 0) out.push(`one of ${values.map(json).join(', ')}`);
    const format = stringAt(schema, 'format');
    const pattern = stringAt(schema, 'pattern');
    if (pattern !== undefined && !(format !== undefined && formatsWithOwnPattern.has(format))) {
      out.push(`pattern <code>${escapeHtml(pattern)}</code>`);
    }
    range(out, numberAt(schema, 'minLength'), numberAt(schema, 'maxLength'), 'characters');
    range(out, numberAt(schema, 'minItems'), numberAt(schema, 'maxItems'), 'items');
    range(out, numberAt(schema, 'minProperties'), numberAt(schema, 'maxProperties'), 'fields');
    const minimum = numberAt(schema, 'minimum');
    const maximum = numberAt(schema, 'maximum');
    if (minimum !== undefined && Math.abs(minimum) !== safeInteger) out.push(`at least ${minimum}`);
    if (maximum !== undefined && Math.abs(maximum) !== safeInteger) out.push(`at most ${maximum}`);
    const above = numberAt(schema, 'exclusiveMinimum');
    const below = numberAt(schema, 'exclusiveMaximum');
    if (above !== undefined) out.push(`more than ${above}`);
    if (below !== undefined) out.push(`less than ${below}`);
    if ('default' in schema) out.push(`default ${json(schema.default)}`);
    if ('example' in schema) out.push(`for example ${json(schema.example)}`);
    for (const key of ['anyOf', 'oneOf']) {
      for (const part of arrayAt(schema, key)) out.push(...this.constraints(part));
    }
    for (const part of arrayAt(schema, 'allOf')) {
      if (refName(part) !== undefined) continue;
      for (const [name, property] of Object.entries(objectAt(part, 'properties'))) {
        const inner = this.constraints(property);
        if (inner.length > 0) out.push(`<code>${escapeHtml(name)}</code>: ${inner.join('; ')}`);
      }
    }
    if (stringsAt(schema, 'type').includes('array') && refName(schema.items) === undefined) {
      const inner = this.constraints(schema.items);
      if (inner.length > 0) out.push(`each item: ${inner.join('; ')}`);
    }
    return unique(out);
  }

  /** A value that fits a schema, for a response example: the schema's examples, or placeholders. */
  private exampleOf(schema: unknown, seen: ReadonlySet<string>): unknown {
    if (!isObject(schema)) return null;
    if ('example' in schema) return schema.example;
    const listed = arrayAt(schema, 'examples')[0];
    if (listed !== undefined) return listed;
    if ('const' in schema) return schema.const;
    const first = arrayAt(schema, 'enum')[0];
    if (first !== undefined) return first;
    if ('default' in schema) return schema.default;
    const name = refName(schema);
    if (name !== undefined) {
      if (seen.has(name)) return {};
      return this.exampleOf(this.schemaNamed(name), new Set([...seen, name]));
    }
    for (const key of ['anyOf', 'oneOf']) {
      const parts = arrayAt(schema, key);
      if (parts.length > 0) {
        const part = parts.find((p) => !stringsAt(p, 'type').includes('null')) ?? parts[0];
        return this.exampleOf(part, seen);
      }
    }
    const all = arrayAt(schema, 'allOf');
    if (all.length > 0) {
      return Object.assign({}, ...all.map((p) => this.exampleOf(p, seen)).filter(isObject));
    }
    const type = stringsAt(schema, 'type').find((t) => t !== 'null') ?? stringsAt(schema, 'type')[0];
    switch (type) {
      case 'object':
        return Object.fromEntries(
          Object.entries(objectAt(schema, 'properties')).map(([key, property]) => [
            key,
            this.exampleOf(property, seen),
          ]),
        );
      case 'array':
        return [this.exampleOf(schema.items, seen)];
      case 'string':
        return stringAt(schema, 'format') === 'uuid' ? uuidPlaceholder : 'string';
      case 'integer':
      case 'number': {
        const minimum = numberAt(schema, 'minimum');
        return minimum !== undefined && Math.abs(minimum) !== safeInteger ? minimum : 0;
      }
      case 'boolean':
        return false;
      case 'null':
        return null;
      default:
        return 'properties' in schema ? {} : null;
    }
  }
}

/** An inline object with fields under a property (itself, its array items or a nullable branch). */
function nestedObject(schema: unknown): { schema: Json; array: boolean } | undefined {
  if (!isObject(schema) || refName(schema) !== undefined) return undefined;
  if (Object.keys(objectAt(schema, 'properties')).length > 0) return { schema, array: false };
  if (stringsAt(schema, 'type').includes('array')) {
    const items = nestedObject(schema.items);
    return items !== undefined ? { schema: items.schema, array: true } : undefined;
  }
  const branches = [...arrayAt(schema, 'anyOf'), ...arrayAt(schema, 'oneOf')].filter(
    (b) => !stringsAt(b, 'type').includes('null'),
  );
  return branches.length === 1 ? nestedObject(branches[0]) : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function json(value: unknown): string {
  return `<code>${escapeHtml(JSON.stringify(value) ?? 'null')}</code>`;
}

function range(out: string[], min: number | undefined, max: number | undefined, unit: string): void {
  if (min !== undefined && max !== undefined)
    out.push(min === max ? `exactly ${min} ${unit}` : `${min} to ${max} ${unit}`);
  else if (min !== undefined) out.push(`at least ${min} ${unit}`);
  else if (max !== undefined) out.push(`at most ${max} ${unit}`);
}
