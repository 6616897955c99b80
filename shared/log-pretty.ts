import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';

/**
 * `BANK_LOG_FORMAT=pretty` (local terminals): the same log entries as Powertools' JSON, as one
 * readable line each, `time LEVEL message key=value …`, with an error's stack on the lines below
 * instead of one escaped JSON string. The cloud never sets it; CloudWatch wants the JSON.
 */
const hidden = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'error',
]);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

export class PrettyLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const a = log.getAttributes();
    const time = typeof a.timestamp === 'string' ? a.timestamp.slice(11, 23) : '';
    const level = String(a.level ?? '').padEnd(5);
    const fields = Object.entries(a)
      .filter(([k, v]) => !hidden.has(k) && v !== undefined)
      .map(([k, v]) => `${k}=${value(v)}`);
    const lines = [
      `${time} ${level} ${String(a.message ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`,
    ];
    const error = a.error;
    if (typeof error === 'object' && error !== null) {
      const stack = 'stack' in error && typeof error.stack === 'string' ? error.stack : undefined;
      const text = stack ?? ('message' in error ? String(error.message) : JSON.stringify(error));
      lines.push(...text.split('\n').map((l) => `    ${l}`));
      if ('cause' in error && error.cause !== undefined) lines.push(`    cause: ${value(error.cause)}`);
    }
    const out =
      a.level === 'INFO' || a.level === 'DEBUG' || a.level === 'TRACE' ? process.stdout : process.stderr;
    out.write(`${lines.join('\n')}\n`);
  }
}
