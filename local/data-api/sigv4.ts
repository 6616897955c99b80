import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ALGORITHM_IDENTIFIER,
  createScope,
  getCanonicalHeaders,
  getSigningKey,
  SignatureV4Base,
} from '@smithy/signature-v4';
import { DataApiError } from './errors';

/**
 * AWS Signature Version 4 checks for the local Data API server, so that reaching its port is not
 * enough to run SQL: as in AWS, a caller must sign each request with a known access key.
 *
 * The signature is recomputed with `@smithy/signature-v4`, the signer the SDK clients use: its
 * canonical headers (exactly those the caller says it signed), canonical request, string to sign
 * and signing-key derivation. This module parses the Authorization header, checks the credential
 * scope, the date window and the body hash, keeps the derived signing key per day (region and
 * service are fixed), and compares in constant time. The refusals carry the error types and
 * wording AWS answers with, so the SDK raises the same named exceptions.
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
  /** X-Amz-Date as sent (checked: basic ISO 8601, inside the window). */
  readonly amzDate: string;
}

interface KnownKey {
  readonly accessKeyId: string;
  readonly check: SignatureCheck;
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
  if (!credential || !signedHeaders || !signature) {
    throw incomplete(
      [
        credential ? '' : "Authorization header requires 'Credential' parameter.",
        signature ? '' : "Authorization header requires 'Signature' parameter.",
        signedHeaders ? '' : "Authorization header requires 'SignedHeaders' parameter.",
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  return { credential, signedHeaders, signature };
}

/** What the signer needs of a request: @smithy/types' HttpRequest, without the body it never reads here. */
type CanonicalRequestInput = Parameters<typeof getCanonicalHeaders>[0];

/**
 * One key's signature over a request, computed as `SignatureV4.sign` computes it (the same
 * canonical headers, canonical request and string to sign, inherited), minus what a verifier does
 * not need: cloning the request, resolving credentials and region through promises, and hashing
 * the key id on every call to look the signing key up. The derived key is kept per day, as the
 * SDK keeps it per (date, region, service), so its four HMACs run once a day.
 */
class SignatureCheck extends SignatureV4Base {
  private readonly signingKeys = new Map<string, Promise<Uint8Array>>();
  constructor(
    private readonly key: AccessKey,
    private readonly region: string,
  ) {
    super({ service: SIGNING_SERVICE, region, credentials: key, sha256: Sha256, uriEscapePath: true });
  }

  private signingKey(shortDate: string): Promise<Uint8Array> {
    let signingKey = this.signingKeys.get(shortDate);
    if (signingKey === undefined) {
      signingKey = getSigningKey(Sha256, this.key, shortDate, this.region, SIGNING_SERVICE);
      // Today's key, and yesterday's or tomorrow's around midnight: no more.
      if (this.signingKeys.size >= 3) this.signingKeys.clear();
      this.signingKeys.set(shortDate, signingKey);
    }
    return signingKey;
  }

  /** The HMAC-SHA256 signature (32 bytes) of `request`, dated `longDate`, over these headers. */
  async signature(
    request: CanonicalRequestInput,
    signedHeaders: Set<string>,
    longDate: string,
    payloadHash: string,
  ): Promise<Buffer> {
    const shortDate = longDate.slice(0, 8);
    const canonicalHeaders = getCanonicalHeaders(request, undefined, signedHeaders);
    const stringToSign = await this.createStringToSign(
      longDate,
      createScope(shortDate, this.region, SIGNING_SERVICE),
      this.createCanonicalRequest(request, canonicalHeaders, payloadHash),
      ALGORITHM_IDENTIFIER,
    );
    return createHmac('sha256', await this.signingKey(shortDate))
      .update(stringToSign)
      .digest();
  }
}

export function createSigV4Verifier(options: SigV4Options): SigV4Verifier {
  const maxSkewMs = options.maxSkewMs ?? FIFTEEN_MINUTES_MS;
  const now = options.now ?? Date.now;
  const skewLabel = `${Math.round(maxSkewMs / 60_000)} min.`;
  const keys = new Map<string, KnownKey>(
    options.keys.map((key) => [
      key.accessKeyId,
      { accessKeyId: key.accessKeyId, check: new SignatureCheck(key, options.region) },
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
    return { key, signedHeaders, signature: parsed.signature, amzDate };
  };

  const verify = async (claimed: SigV4Claim, request: SignedRequestParts, body: Buffer): Promise<void> => {
    // A body hash the caller declares must be the hash of the body that arrived (a signer takes
    // the header's word for it); either way the signature covers the hash of what arrived.
    const payloadHash = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
    const declaredHash = headerValue(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash !== payloadHash) {
      throw invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    // Exactly the headers the caller signed, and every one of them (a header it signed but the
    // request lacks changes the canonical request, and so the signature).
    const headers: Record<string, string> = {};
    for (const name of claimed.signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value !== undefined) headers[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    if (request.query !== '') {
      for (const [name, value] of new URLSearchParams(request.query)) {
        const existing = query[name];
        if (existing === undefined) query[name] = value;
        else if (Array.isArray(existing)) existing.push(value);
        else query[name] = [existing, value];
      }
    }
    const expected = await claimed.key.check.signature(
      {
        method: request.method,
        protocol: 'http:',
        hostname: headers.host ?? '',
        path: request.path,
        query,
        headers,
      },
      new Set(claimed.signedHeaders),
      claimed.amzDate,
      payloadHash,
    );
    const provided = Buffer.from(claimed.signature, 'hex');
    if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
      throw invalidSignature(SIGNATURE_MISMATCH);
    }
  };

  return { claim, verify };
}
