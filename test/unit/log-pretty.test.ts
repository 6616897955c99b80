import { afterEach, describe, expect, it, vi } from 'vitest';
import { PrettyLogger } from '../../shared/log-pretty';

/** BANK_LOG_FORMAT=pretty: the Powertools entries, for a person at a terminal. */
describe('PrettyLogger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function capture(): string[] {
    const written: string[] = [];
    const keep = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(keep);
    vi.spyOn(process.stderr, 'write').mockImplementation(keep);
    return written;
  }

  it('writes a request as one line of key=value, and a stack trace as real lines', () => {
    // Prepare
    const logger = new PrettyLogger({ serviceName: 'bank', logLevel: 'INFO' });
    const written = capture();
    const error = new Error('database went away');
    // Act
    logger.info('request', { method: 'GET', path: '/health', status: 200, actor: 'anonymous' });
    logger.error('unhandled error', { errorName: 'Boom', error });
    // Assess
    const [info, failure] = written;
    expect(info).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}request method=GET path=\/health status=200 actor=anonymous\n$/,
    );
    const lines = (failure ?? '').trimEnd().split('\n');
    expect(lines[0]).toMatch(/ ERROR unhandled error errorName=Boom$/);
    expect(lines[1]).toBe('    Error: database went away');
    expect(lines[2]).toMatch(/^ {4} *at /);
    expect(lines.length).toBeGreaterThan(3);
  });
});
