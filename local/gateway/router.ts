import type { GatewayRoute } from '../gateway';

/**
 * Route selection as an HTTP API does it for `METHOD /path/{param}` route keys: exact method,
 * each `{name}` template segment matching one non-empty path segment, literal segments matching
 * exactly. When several templates match, the most specific wins (a literal segment beats a
 * parameter, compared left to right), which is API Gateway's "most-specific match" rule.
 */

type Segment = { readonly literal: string } | { readonly param: string };

interface CompiledRoute {
  readonly route: GatewayRoute;
  readonly segments: readonly Segment[];
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: GatewayRoute; readonly pathParameters: Record<string, string> }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

export interface Router {
  match(method: string, rawPath: string): RouteMatch;
}

export function createRouter(routes: readonly GatewayRoute[]): Router {
  const compiled = routes.map(compile).sort(bySpecificity);
  const keys = new Set<string>();
  for (const { route } of compiled) {
    const key = `${route.method} ${route.path}`;
    if (keys.has(key)) throw new Error(`Duplicate route key '${key}' (route '${route.name}')`);
    keys.add(key);
  }

  return {
    match(method, rawPath) {
      const parts = rawPath.split('/');
      let allow: string[] | undefined;
      for (const candidate of compiled) {
        const params = matchSegments(candidate.segments, parts);
        if (!params) continue;
        if (candidate.route.method === method) {
          return { kind: 'found', route: candidate.route, pathParameters: params };
        }
        allow ??= [];
        if (!allow.includes(candidate.route.method)) allow.push(candidate.route.method);
      }
      return allow ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
    },
  };
}

function compile(route: GatewayRoute): CompiledRoute {
  if (!route.path.startsWith('/')) throw new Error(`Route '${route.name}' path must start with '/'`);
  const segments = route.path.split('/').map((part): Segment => {
    const param = /^\{([A-Za-z0-9_.-]+)\}$/.exec(part)?.[1];
    return param === undefined ? { literal: part } : { param };
  });
  return { route, segments };
}

/** Literal segments first, left to right, so `/accounts/export` is tried before `/accounts/{accountNo}`. */
function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const sa = a.segments[i];
    const sb = b.segments[i];
    const aLiteral = sa !== undefined && 'literal' in sa;
    const bLiteral = sb !== undefined && 'literal' in sb;
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
}

function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const part = parts[i];
    if (segment === undefined || part === undefined) return undefined;
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params ??= {};
      // rawPath keeps '%25' encoded (see decodeHttpApiPath); a parameter value is fully decoded.
      params[segment.param] = part.includes('%25') ? part.replaceAll('%25', '%') : part;
    }
  }
  return params ?? {};
}
