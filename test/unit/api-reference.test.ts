import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../shared/openapi';
import { escapeHtml, inlineText, renderReference } from '../../web/scripts/reference';

/** The API reference page at /docs, generated from the OpenAPI document (web/scripts/reference.ts). */
type Json = Record<string, unknown>;
const doc = buildOpenApiDocument();
const html = renderReference(doc);
const paths = doc.paths as Record<string, Record<string, Json>>;
const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
const methods = ['get', 'put', 'post', 'delete', 'patch'];

const operations = Object.entries(paths).flatMap(([path, item]) =>
  methods.flatMap((method) => {
    const operation = item[method];
    return operation ? [{ path, method, operation }] : [];
  }),
);

function decode(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}
/** The text a reader sees in a fragment: tags dropped, entities decoded, spaces collapsed. */
function textOf(fragment: string): string {
  return decode(fragment.replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
}
function idsOf(page: string): string[] {
  return [...page.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1] ?? '');
}
function internalHrefsOf(page: string): string[] {
  return [...page.matchAll(/\shref="#([^"]*)"/g)].map((m) => m[1] ?? '');
}

/** Each operation's section, by the words of its heading (`POST /transfers`). */
function operationSections(page: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of page.matchAll(/<section id="op-[^"]*" class="operation">([\s\S]*?)<\/section>/g)) {
    const body = m[1] ?? '';
    out.set(textOf(/<h4>([\s\S]*?)<\/h4>/.exec(body)?.[1] ?? ''), body);
  }
  return out;
}
const sections = operationSections(html);

function sectionOf(label: string): string {
  const section = sections.get(label);
  if (section === undefined) throw new Error(`no section for ${label}`);
  return section;
}

/** The codes listed in the responses table row of a status. */
function codesUnder(section: string, status: string): string[] | undefined {
  const table = /<table class="responses">([\s\S]*?)<\/table>/.exec(section)?.[1] ?? '';
  for (const row of table.split('<tr').slice(1)) {
    const head = textOf(/<th scope="row">([\s\S]*?)<\/th>/.exec(row)?.[1] ?? '');
    if (head.split(' ')[0] !== status) continue;
    return [...row.matchAll(/<a class="ref" href="#code-[^"]*">([^<]*)<\/a>/g)].map((m) =>
      decode(m[1] ?? ''),
    );
  }
  return undefined;
}

describe('escaping', () => {
  it('escapes the five characters that can end a text node or an attribute', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
    expect(escapeHtml('plain text, 1.00')).toBe('plain text, 1.00');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('turns backtick spans into <code>, escaped inside and out, and leaves a lone backtick as text', () => {
    expect(inlineText('a `<b>` & `c"d`')).toBe('a <code>&lt;b&gt;</code> &amp; <code>c&quot;d</code>');
    expect(inlineText('one ` two <i>')).toBe('one ` two &lt;i&gt;');
    expect(inlineText('')).toBe('');
  });

  it('renders a document full of markup as text, with safe ids and no dangling link', () => {
    const evil = structuredClone(doc) as Json & {
      info: Json;
      paths: Record<string, Record<string, Json>>;
      components: { schemas: Record<string, Json> };
      'x-error-codes': Record<string, number>;
    };
    const attack = `<script>alert("x")</script>'&"`;
    evil.info.title = `Bank ${attack}`;
    evil.info.description = `A & B <img src=x onerror="alert(1)"> \`<b>\``;
    const transfer = evil.paths['/transfers']?.post as Json & { responses: Record<string, Json> };
    transfer.summary = `Move <script>money</script>`;
    transfer.tags = [`<b>"tag"</b>`];
    transfer['x-roles'] = [`<i>role</i>`];
    const unprocessable = transfer.responses['422'] as Json;
    unprocessable['x-codes'] = [`<i>CODE</i>`];
    unprocessable.description = `\`<i>CODE</i>\`: "quoted" & 'single'`;
    // A description not in the "`CODE`: when" form is shown whole, after the codes.
    (transfer.responses['423'] as Json).description = 'plain words <u>';
    evil['x-error-codes'][`<i>CODE</i>`] = 422;
    evil.components.schemas[`Evil"><script>`] = {
      type: 'object',
      description: `</td><script>alert(2)</script>`,
      properties: {
        'x"><img src=y>': { type: 'string', enum: [`"><script>alert(3)</script>`], pattern: '^<a>$' },
      },
    };
    (evil.components.schemas.Transfer as Json).properties = {
      ...((evil.components.schemas.Transfer as Json).properties as Json),
      evil: { $ref: `#/components/schemas/Evil"><script>` },
      missing: { $ref: '#/components/schemas/NoSuchSchema' },
      inherited: { $ref: '#/components/schemas/constructor' },
    };
    const page = renderReference(evil);

    expect(page).not.toMatch(/<script|<img|<b>|<i>|onerror="/);
    expect(page).toContain(
      'Bank &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&quot; reference',
    );
    expect(page).toContain('A &amp; B &lt;img src=x onerror=&quot;alert(1)&quot;&gt; <code>&lt;b&gt;</code>');
    expect(page).toContain('Move &lt;script&gt;money&lt;/script&gt;');
    expect(page).toContain('<li>&lt;i&gt;role&lt;/i&gt;</li>');
    expect(page).toContain('&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(page).toContain('class="name depth-0">x&quot;&gt;&lt;img src=y&gt;</th>');
    expect(page).toContain('<code>&quot;\\&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;&quot;</code>');
    expect(page).toContain('pattern <code>^&lt;a&gt;$</code>');
    // The hostile names become safe ids, and every link still has its target.
    for (const id of idsOf(page)) expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    const ids = new Set(idsOf(page));
    for (const href of internalHrefsOf(page)) expect(ids, href).toContain(href);
    expect(page).toContain(
      '<a class="ref" href="#code-i-CODE-i">&lt;i&gt;CODE&lt;/i&gt;</a>: &quot;quoted&quot; &amp; &#39;single&#39;</td>',
    );
    expect(page).toContain(
      '<td><a class="ref" href="#code-ACCOUNT_LOCKED">ACCOUNT_LOCKED</a><br>plain words &lt;u&gt;</td>',
    );
    // A ref to a schema that is not there is named, not linked.
    expect(page).toContain('<code>NoSuchSchema</code>');
    expect(page).not.toContain('#schema-NoSuchSchema');
    expect(page).toContain('<code>constructor</code>');
    expect(page).not.toContain('#schema-constructor');
  });
});

describe('the API reference page', () => {
  it('is one static page: its stylesheet, no script, no inline style', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).not.toMatch(/<script|\sstyle=|<style|\son[a-z]+=/i);
    expect([...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1])).toEqual([
      '/docs/docs.css',
    ]);
    expect(html).toContain('<a href="/openapi.json" download="openapi.json">');
    expect(html).toContain('<a href="/console/">Back to the console</a>');
    expect(html).toContain('<title>Bank API reference</title>');
    expect(html).toContain('Version 1.0.0');
  });

  it('has the landmarks and a heading hierarchy without jumps', () => {
    for (const tag of ['<header class="top">', '<main id="main">', '<footer class="bottom">']) {
      expect(html.split(tag).length - 1, tag).toBe(1);
    }
    const navs = [...html.matchAll(/<nav([^>]*)>/g)].map((m) => m[1] ?? '');
    expect(navs).toHaveLength(2);
    for (const nav of navs) expect(nav).toMatch(/aria-label(ledby)?="[^"]+"/);
    const levels = [...html.matchAll(/<h([1-6])[\s>]/g)].map((m) => Number(m[1]));
    expect(levels[0]).toBe(1);
    expect(levels.filter((l) => l === 1)).toHaveLength(1);
    for (let i = 1; i < levels.length; i += 1) {
      expect(levels[i] ?? 0, `heading ${i}`).toBeLessThanOrEqual((levels[i - 1] ?? 0) + 1);
    }
  });

  it('resolves every internal link to exactly one element', () => {
    const ids = idsOf(html);
    expect(new Set(ids).size, 'ids are unique').toBe(ids.length);
    const hrefs = internalHrefsOf(html);
    expect(hrefs.length).toBeGreaterThan(300);
    const known = new Set(ids);
    for (const href of hrefs) expect(known, `#${href}`).toContain(href);
    // And every schema and every operation is linked from the contents.
    const contents = /<nav class="toc"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
    for (const name of Object.keys(schemas)) expect(contents).toContain(`href="#schema-${name}"`);
    expect(contents.match(/href="#op-/g)).toHaveLength(operations.length);
  });

  it('shows every operation with its summary, roles, parameters and the codes under each status', () => {
    expect(sections.size).toBe(operations.length);
    expect(operations.length).toBeGreaterThan(30);
    for (const { path, method, operation } of operations) {
      const label = `${method.toUpperCase()} ${path}`;
      const section = sectionOf(label);
      expect(textOf(section), label).toContain(String(operation.summary));
      const roles = [
        ...(/<ul class="roles">([\s\S]*?)<\/ul>/.exec(section)?.[1] ?? '').matchAll(/<li>(.*?)<\/li>/g),
      ];
      expect(
        roles.map((m) => m[1]),
        label,
      ).toEqual(operation['x-roles']);
      for (const parameter of (operation.parameters as Json[]) ?? []) {
        expect(section, `${label} ${parameter.name}`).toContain(
          `<th scope="row" class="name">${parameter.name}</th>`,
        );
      }
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        expect(codesUnder(section, status), `${label} ${status}`).toEqual(response['x-codes'] ?? []);
      }
      // The named schemas it uses are linked from it.
      for (const m of JSON.stringify(operation).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        expect(section, `${label} → ${m[1]}`).toContain(`href="#schema-${m[1]}"`);
      }
    }
  });

  it('shows POST /transfers: its roles, INSUFFICIENT_FUNDS under 422, its body fields and example', () => {
    const section = sectionOf('POST /transfers');
    expect(section).toContain(
      '<dt>Roles allowed</dt><dd><ul class="roles"><li>customer</li><li>teller</li><li>admin</li></ul></dd>',
    );
    expect(textOf(section)).toContain('Roles: customer (own accounts only), teller, admin.');
    expect(codesUnder(section, '422')).toEqual([
      'IDEMPOTENCY_KEY_REUSED',
      'INSUFFICIENT_FUNDS',
      'LIMIT_EXCEEDED',
    ]);
    expect(codesUnder(section, '423')).toEqual(['ACCOUNT_LOCKED']);
    expect(codesUnder(section, '201')).toEqual([]);
    expect(section).toContain(
      '<a class="ref" href="#code-INSUFFICIENT_FUNDS">INSUFFICIENT_FUNDS</a>: the balance is lower than the amount<br>',
    );
    // The body as a field table: name, type, required, constraints, description.
    expect(section).toContain(
      '<tr><th scope="row" class="name depth-0">amount</th><td>string</td><td>yes</td><td class="constraints">pattern <code>^(0|[1-9][0-9]{0,12})(\\.[0-9]{1,2})?$</code><br>for example <code>&quot;125.50&quot;</code></td><td>Decimal string, &gt; 0 and &lt;= 1000000000.00</td></tr>',
    );
    expect(section).toContain('<th scope="row" class="name depth-0">memo</th><td>string</td><td>no</td>');
    expect(textOf(section)).toContain('"toAccountNo": "400000000010"');
    expect(textOf(section)).toContain('Example 201 response');
    expect(section).toContain('<code class="path">/transfers</code>');
  });

  it('shows every schema with an anchor and a row for each of its fields, nested ones indented', () => {
    for (const [name, schema] of Object.entries(schemas)) {
      const start = html.indexOf(`<section id="schema-${name}" class="schema">`);
      expect(start, name).toBeGreaterThan(-1);
      const section = html.slice(start, html.indexOf('</section>', start));
      expect(section).toContain(`<h3><code>${name}</code></h3>`);
      const required = new Set((schema.required as string[] | undefined) ?? []);
      for (const field of Object.keys((schema.properties as Json | undefined) ?? {})) {
        expect(section, `${name}.${field}`).toContain(`<th scope="row" class="name depth-0">${field}</th>`);
        const row = section.slice(section.indexOf(`depth-0">${field}</th>`));
        expect(/<td>.*?<\/td><td>(yes|no)<\/td>/.exec(row)?.[1], `${name}.${field}`).toBe(
          required.has(field) ? 'yes' : 'no',
        );
      }
    }
    // Problem.errors is an array of inline objects: its fields are rows of their own, indented.
    const problem = html.slice(html.indexOf('<section id="schema-Problem"'));
    expect(problem).toContain('<th scope="row" class="name depth-1">errors[].path</th>');
    expect(problem).toContain('<th scope="row" class="name depth-1">errors[].message</th>');
  });

  it('lists every error code with its status, and the conventions', () => {
    for (const [code, status] of Object.entries(doc['x-error-codes'] as Record<string, number>)) {
      const row = new RegExp(
        `<tr id="code-${code}"><th scope="row" class="name">${code}</th><td>(\\d{3}) `,
      ).exec(html);
      expect(row?.[1], code).toBe(String(status));
    }
    const text = textOf(html);
    expect(text).toContain('Authorization: Bearer <token>');
    expect(text).toContain('Idempotency-Key');
    expect(text).toContain('application/problem+json');
    expect(text).toContain('"1234.50"');
  });
});
