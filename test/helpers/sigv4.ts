import { request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { type AccessKey, Sha256, SIGNING_SERVICE } from '../../local/data-api/sigv4';

/**
 * Raw requests to a local Data API server, signed (or not) by hand: what an attacker with a curl
 * and the port could send, and the corner cases the SDK never produces.
 */

export interface SignOptions {
  readonly key: AccessKey;
  readonly region?: string;
  readonly service?: string;
  /** The signing time (a replay from the past, a clock in the future). */
  readonly date?: Date;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The headers of a POST of `body` to `path` on `baseUrl`, signed as the SDK signs them. */
export async function signedHeaders(
  baseUrl: string,
  path: string,
  body: string,
  options: SignOptions,
): Promise<Record<string, string>> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({
    service: options.service ?? SIGNING_SERVICE,
    region: options.region ?? 'us-east-1',
    credentials: options.key,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        ...options.headers,
      },
      body,
    },
    options.date ? { signingDate: options.date } : {},
  );
  return signed.headers;
}

export interface RawResponse {
  readonly status: number;
  readonly errorType: string | undefined;
  readonly body: Record<string, unknown>;
}

/** POSTs exactly these headers and this body (node:http: fetch would not send a `host` of our choosing). */
export function rawPost(
  baseUrl: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string,
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: Number(url.port), path, method: 'POST', headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const errorType = res.headers['x-amzn-errortype'];
          resolve({
            status: res.statusCode ?? 0,
            errorType: Array.isArray(errorType) ? errorType[0] : errorType,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed POST, as the SDK would send it (for raw-request tests that are not about signing). */
export async function signedPost(
  baseUrl: string,
  path: string,
  body: string,
  options: SignOptions,
): Promise<RawResponse> {
  return rawPost(baseUrl, path, await signedHeaders(baseUrl, path, body, options), body);
}
