import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { DataApiError } from './errors';

/**
 * AWS Signature Version 4 checks for the local Data API server, so that reaching its port is not
 * enough to run SQL: as in AWS, a caller must sign each request with a known access key.
 *
 * The signature itself is recomputed by `@smithy/signature-v4`, the signer the SDK clients use
 * (it also caches the derived signing key per date, region and service), over exactly the headers
 * the caller says it signed; this module parses the Authorization header, checks the credential
 * scope, the date window and the body hash, and compares in constant time. The refusals carry the
 * error types and wording AWS answers with, so the SDK raises the same named exceptions.
 */

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SigV4Options {
  /** The keys allowed to call; any other access key id is refused. */
  readonly keys: readonly AccessKey[];
  /** The region the clients sign for (their `region`, e.g. AWS_REGION). */
  readonly region: string;
  /** Milliseconds a signature may be older or newer than now; AWS allows 15 minutes. */
  readonly maxSkewMs?: number;
  /** The clock (tests of the date window); Date.now by default. */
  readonly now?: () => number;
}

/** What the parts of a request the signature covers look like once the server has read them. */
export interface SignedRequestParts {
  readonly method: string;
  /** The path as routed (no query). */
  readonly path: string;
  /** The raw query string without '?', '' when none. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
}

/** A request whose Authorization header is well formed, from a known key, inside the date window. */
export interface SigV4Claim {
  readonly key: KnownKey;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly signingDate: Date;
}

interface KnownKey {
  readonly accessKeyId: string;
  readonly signer: SignatureV4;
}

export interface SigV4Verifier {
  /**
   * Checks what can be checked before the body is read: present and well-formed Authorization, a
   * known key, the credential scope and the date window. Throws the DataApiError to answer.
   */
  claim(request: SignedRequestParts): SigV4Claim;
  /** Recomputes the signature over the request and its body; throws unless it matches. */
  verify(claim: SigV4Claim, request: SignedRequestParts, body: Buffer): Promise<void>;
}

export const SIGNING_SERVICE = 'rds-data';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// The messages are AWS's own, so that what a developer sees locally is what the cloud would say.
const missingToken = () =>
  new DataApiError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
const incomplete = (message: string) => new DataApiError('IncompleteSignatureException', 403, message);
const unrecognized = () =>
  new DataApiError(
    'UnrecognizedClientException',
    403,
    'The security token included in the request is invalid.',
  );
const invalidSignature = (message: string) => new DataApiError('InvalidSignatureException', 403, message);
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** SHA-256 and HMAC-SHA256 for the signer, from node:crypto (the SDK's Node.js build does the same). */
export class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    if (secret === undefined) {
      this.hash = createHash('sha256');
    } else {
      const key =
        typeof secret === 'string'
          ? secret
          : ArrayBuffer.isView(secret)
            ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
            : new Uint8Array(secret);
      this.hash = createHmac('sha256', key);
    }
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

const formatAmzDate = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` into its three parameters. */
function parseAuthorization(header: string): {
  credential: string;
  signedHeaders: string;
  signature: string;
} {
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported authorization type. Only ${ALGORITHM} signatures are accepted.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq === -1) {
      throw incomplete(`Invalid key=value pair (missing equal-sign) in Authorization header: '${trimmed}'.`);
    }
    params.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const credential = params.get('Credential');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  const missing = [
    credential ? '' : "Authorization header requires 'Credential' parameter.",
    signature ? '' : "Authorization header requires 'Signature' parameter.",
    signedHeaders ? '' : "Authorization header requires 'SignedHeaders' parameter.",
  ].filter(Boolean);
  if (
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined ||
    missing.length > 0
  ) {
    throw incomplete(missing.join(' '));
  }
  return { credential, signedHeaders, signature };
}

export function createSigV4Verifier(options: SigV4Options): SigV4Verifier {
  const maxSkewMs = options.maxSkewMs ?? FIFTEEN_MINUTES_MS;
  const now = options.now ?? Date.now;
  const skewLabel = `${Math.round(maxSkewMs / 60_000)} min.`;
  // One signer per key: it recomputes signatures with that key's secret, and its module-level
  // cache keeps the derived key per (date, region, service, key), so the four HMACs of the key
  // derivation run once a day rather than once a call.
  const keys = new Map<string, KnownKey>(
    options.keys.map((key) => [
      key.accessKeyId,
      {
        accessKeyId: key.accessKeyId,
        signer: new SignatureV4({
          service: SIGNING_SERVICE,
          region: options.region,
          credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
          sha256: Sha256,
          // The body hash is the signer's to compute, not a header for it to add.
          applyChecksum: false,
          uriEscapePath: true,
        }),
      },
    ]),
  );

  const claim = (request: SignedRequestParts): SigV4Claim => {
    const authorization = headerValue(request.headers, 'authorization');
    if (authorization === undefined || authorization === '') throw missingToken();
    const parsed = parseAuthorization(authorization);

    const scope = parsed.credential.split('/');
    if (scope.length !== 5) {
      throw incomplete(
        `Credential should be scoped to a valid region, service and terminator: '${parsed.credential}'.`,
      );
    }
    const [accessKeyId = '', shortDate = '', region = '', service = '', terminator = ''] = scope;
    // A session token means temporary credentials; the keys here are long-term ones, so AWS would
    // not recognise the pair either.
    const key = keys.get(accessKeyId);
    if (key === undefined || request.headers['x-amz-security-token'] !== undefined) throw unrecognized();

    const amzDate = headerValue(request.headers, 'x-amz-date');
    if (amzDate === undefined) {
      throw incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      );
    }
    const match = AMZ_DATE.exec(amzDate);
    const signingMs = match
      ? Date.UTC(
          Number(match[1]),
          Number(match[2]) - 1,
          Number(match[3]),
          Number(match[4]),
          Number(match[5]),
          Number(match[6]),
        )
      : Number.NaN;
    // Date.UTC rolls 20261340 over into a later date; only a date that formats back is valid.
    if (!Number.isFinite(signingMs) || formatAmzDate(signingMs) !== amzDate) {
      throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
    }

    const signedHeaders = parsed.signedHeaders.split(';');
    if (!signedHeaders.includes('host')) {
      throw incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    if (!signedHeaders.includes('x-amz-date')) {
      throw incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }

    if (shortDate !== amzDate.slice(0, 8)) {
      throw invalidSignature(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      );
    }
    if (region !== options.region) {
      throw invalidSignature(`Credential should be scoped to a valid region, not '${region}'.`);
    }
    if (service !== SIGNING_SERVICE) {
      throw invalidSignature(`Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`);
    }
    if (terminator !== TERMINATOR) {
      throw invalidSignature(
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`,
      );
    }

    const nowMs = now();
    if (signingMs < nowMs - maxSkewMs) {
      throw invalidSignature(
        `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - maxSkewMs)} (${formatAmzDate(nowMs)} - ${skewLabel})`,
      );
    }
    if (signingMs > nowMs + maxSkewMs) {
      throw invalidSignature(
        `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(nowMs + maxSkewMs)} (${formatAmzDate(nowMs)} + ${skewLabel})`,
      );
    }
    // Checked for shape only here; the value is compared, in constant time, once recomputed.
    if (!SIGNATURE.test(parsed.signature)) throw invalidSignature(SIGNATURE_MISMATCH);
    return { key, signedHeaders, signature: parsed.signature, signingDate: new Date(signingMs) };
  };

  const verify = async (claimed: SigV4Claim, request: SignedRequestParts, body: Buffer): Promise<void> => {
    // A body hash the caller declares must be the hash of the body that arrived: the signer takes
    // the header's word for it.
    const declaredHash = headerValue(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined) {
      const actual = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
      if (declaredHash !== actual) {
        throw invalidSignature(
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
      }
    }
    // Exactly the headers the caller signed, and every one of them (a header it signed but the
    // request lacks changes the canonical request, and so the signature).
    const headers: Record<string, string> = {};
    for (const name of claimed.signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value !== undefined) headers[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(request.query)) {
      const existing = query[name];
      if (existing === undefined) query[name] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else query[name] = [existing, value];
    }
    const signed = await claimed.key.signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: headers.host ?? '',
        path: request.path,
        query,
        headers,
        body,
      },
      { signingDate: claimed.signingDate, signableHeaders: new Set(claimed.signedHeaders) },
    );
    const recomputed = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? '')?.[1];
    const expected = Buffer.from(recomputed ?? '', 'latin1');
    const provided = Buffer.from(claimed.signature, 'latin1');
    if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
      throw invalidSignature(SIGNATURE_MISMATCH);
    }
  };

  return { claim, verify };
}
