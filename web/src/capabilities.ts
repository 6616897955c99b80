import { useQuery } from '@tanstack/react-query';
import { api, call } from './api/client';

/**
 * What this server offers, read from its own /openapi.json: screens for routes that are not
 * deployed yet (API.md v1.1) stay hidden until the server lists them.
 */
export interface Capabilities {
  has(method: string, path: string): boolean;
  hasQuery(method: string, path: string, name: string): boolean;
}

type Operation = { parameters?: Array<{ name?: string; in?: string }> };
type Document = { paths?: Record<string, Record<string, Operation>> };

function fromDocument(doc: Document | undefined): Capabilities {
  const operation = (method: string, path: string) => doc?.paths?.[path]?.[method.toLowerCase()];
  return {
    has: (method, path) => operation(method, path) !== undefined,
    hasQuery: (method, path, name) =>
      (operation(method, path)?.parameters ?? []).some((p) => p.in === 'query' && p.name === name),
  };
}

export function useCapabilities(): Capabilities {
  const { data } = useQuery({
    queryKey: ['openapi'],
    queryFn: async () => (await call(api.GET('/openapi.json'))) as Document,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return fromDocument(data);
}

/** Outside React (sign-out, refresh): the document once, cached. */
let cached: Promise<Capabilities> | undefined;
export function capabilities(): Promise<Capabilities> {
  cached ??= call(api.GET('/openapi.json'))
    .then((doc) => fromDocument(doc as Document))
    .catch(() => {
      cached = undefined;
      return fromDocument(undefined);
    });
  return cached;
}
