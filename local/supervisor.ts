import type { LocalBank } from './bank';

/**
 * What `npm start` cannot serve without: PostgreSQL and the Data API thread. When either dies the
 * bank must not go on answering every request with a 500: this resolves with one line saying
 * what died, and the caller stops the rest and exits non-zero (a process manager, or the
 * operator, restarts it; a restart recovers PostgreSQL's lock file, see postgres.ts).
 */
export function componentFailure(bank: Pick<LocalBank, 'postgres' | 'services'>): Promise<string> {
  const never = new Promise<string>(() => undefined);
  const postgres = bank.postgres.exited.then(({ code, signal, requested }) => {
    if (requested) return never;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const last = bank.postgres.logTail(1).trim();
    return `PostgreSQL (pid ${bank.postgres.pid}) ${how}${last ? ` (its last words: ${last})` : ''}`;
  });
  return Promise.race([postgres, bank.services.dataApi.failed ?? never]);
}
