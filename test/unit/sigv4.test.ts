import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { generateAccessKey } from '../../local/data-api/credentials';
import { createSigV4Verifier, Sha256, type SignedRequestParts } from '../../local/data-api/sigv4';

/*
 * The server's check against the SDK's own signer, on what the SDK seldom sends: a query string,
 * header values with runs of blanks, an empty body, an unsigned extra header. Whatever the signer
 * signs verifies; one changed character anywhere that is signed does not.
 */

const key = generateAccessKey();
const now = Date.UTC(2026, 10, 29, 12, 0, 0);
const verifier = createSigV4Verifier({ keys: [key], region: 'eu-central-1', now: () => now });
const signer = new SignatureV4({
  service: 'rds-data',
  region: 'eu-central-1',
  credentials: key,
  sha256: Sha256,
});

async function signed(
  body: string,
  query: Record<string, string | string[]>,
  headers: Record<string, string>,
) {
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path: '/Execute',
      query,
      headers: { host: '127.0.0.1:8080', ...headers },
      body,
    },
    { signingDate: new Date(now - 60_000) },
  );
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
  }
  const parts: SignedRequestParts = {
    method: 'POST',
    path: '/Execute',
    query: search.toString(),
    headers: { ...request.headers, 'user-agent': 'not signed, not checked' },
  };
  return parts;
}

const outcome = async (parts: SignedRequestParts, body: string): Promise<string> => {
  try {
    await verifier.verify(verifier.claim(parts), parts, Buffer.from(body));
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
};

describe('signature check against @smithy/signature-v4', () => {
  it.each([
    ['a plain JSON body', '{"sql":"SELECT 1"}', {}, { 'content-type': 'application/json' }],
    ['an empty body', '', {}, {}],
    ['a query string with repeated and encoded values', '{}', { b: 'x y/z', a: ['2', '1'] }, {}],
    [
      'header values with blanks to fold',
      '{}',
      {},
      { 'x-amz-meta': '  a   b  ', 'content-type': 'application/json' },
    ],
  ])('verifies %s, and refuses it with one byte changed', async (_name, body, query, headers) => {
    // Prepare
    const parts = await signed(body, query, headers);
    const authorization = String(parts.headers.authorization);
    const last = authorization.at(-1) === '0' ? '1' : '0';
    const forged = {
      ...parts,
      headers: { ...parts.headers, authorization: authorization.slice(0, -1) + last },
    };
    // Act
    const genuine = await outcome(parts, body);
    const forgedSignature = await outcome(forged, body);
    const otherBody = await outcome(parts, `${body} `);
    const otherQuery = await outcome({ ...parts, query: `${parts.query}&c=1` }, body);
    // Assess
    expect({ genuine, forgedSignature, otherBody, otherQuery }).toEqual({
      genuine: 'ok',
      forgedSignature: 'InvalidSignatureException',
      otherBody: 'InvalidSignatureException',
      otherQuery: 'InvalidSignatureException',
    });
  });

  it('keeps to the 15-minute window on both sides', async () => {
    // Prepare
    const parts = await signed('{}', {}, {});
    const at = (offsetMs: number) =>
      createSigV4Verifier({ keys: [key], region: 'eu-central-1', now: () => now - 60_000 + offsetMs });
    const check = (offsetMs: number) => {
      try {
        at(offsetMs).claim(parts);
        return 'ok';
      } catch (error) {
        return error instanceof Error ? error.message.split(':')[0] : String(error);
      }
    };
    // Act + Assess
    expect(check(15 * 60_000)).toBe('ok');
    expect(check(15 * 60_000 + 1_000)).toBe('Signature expired');
    expect(check(-15 * 60_000)).toBe('ok');
    expect(check(-15 * 60_000 - 1_000)).toBe('Signature not yet current');
  });
});
