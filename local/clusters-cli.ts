import { tmpdir } from 'node:os';
import path from 'node:path';
import { clustersCommand } from './clusters';

/**
 * `npm run clusters [-- --prune [--unknown]]`: the clusters that `npm start` as root keeps in
 * /var/lib/secure-bank/clusters, whose each is, and the removal of those no data directory uses.
 * Data directories are looked for in the temporary directory and at ${BANK_DATA_DIR:-.data}.
 */
try {
  process.exitCode = await clustersCommand(process.argv.slice(2), {
    searchRoots: [tmpdir()],
    dataDirs: [path.resolve(process.env.BANK_DATA_DIR || '.data')],
  });
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
