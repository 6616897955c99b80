/**
 * The console's Content-Security-Policy, one definition for both places that send it: the local
 * static server (local/static.ts) and the CloudFront response headers policy
 * (cdk/constructs/console.ts). Nothing inline may run or style: every script and stylesheet is a
 * file on this origin.
 */
export const consoleCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');
