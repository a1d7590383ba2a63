import fs from 'node:fs';
import path from 'node:path';
import { openPostgres, queryRows, rawSql } from '../src/platform/database/database.js';
import { generateKekText, LocalKeyProvider, parseKek } from '../src/platform/crypto/key-provider.js';
import { KeyRing } from '../src/platform/crypto/key-ring.js';
import { RegistryEncryption } from '../src/modules/registry/registry.encryption.js';

// Encryption at rest as the bench meets it: every process it starts must use the same
// key-encryption key (the data keys in the bench database are wrapped by it), and its SQL floor
// must look identifiers up by blind index, as the API does.

/** The bench's own KEK, kept (mode 0600) under the repository's .data/ (git-ignored). */
export const BENCH_KEK_FILE = path.resolve(import.meta.dirname, '..', '.data', 'bench-kek.key');

/** ENCRYPTION_KEK_FILE for the processes the bench starts, unless the environment gives a KEK already. */
export function benchKekEnvironment(): Record<string, string> {
  if (process.env.ENCRYPTION_KEK || process.env.ENCRYPTION_KEK_FILE) return {};
  if (!fs.existsSync(BENCH_KEK_FILE)) {
    fs.mkdirSync(path.dirname(BENCH_KEK_FILE), { recursive: true });
    try {
      fs.writeFileSync(BENCH_KEK_FILE, `${generateKekText()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return { ENCRYPTION_KEK_FILE: BENCH_KEK_FILE };
}

function benchKek(): Buffer {
  if (process.env.ENCRYPTION_KEK) return parseKek(process.env.ENCRYPTION_KEK, 'ENCRYPTION_KEK');
  const file = process.env.ENCRYPTION_KEK_FILE ?? (benchKekEnvironment(), BENCH_KEK_FILE);
  return parseKek(fs.readFileSync(file, 'utf8'), file);
}

export type IdentifierIndexer = (idType: string, value: string) => string;

/**
 * The blind index of identifiers in the database at `databaseUrl` (its keys unwrapped with the
 * bench KEK); undefined when it has no encryption keys yet (never started since encryption at
 * rest, or not migrated): then identifiers are still in clear.
 */
export async function loadIdentifierIndexer(databaseUrl: string): Promise<IdentifierIndexer | undefined> {
  const database = await openPostgres(databaseUrl, 1);
  try {
    // Fails (no such table) before the migration that adds encryption at rest.
    const present = await queryRows<{ present: boolean }>(database.db, rawSql`select exists(select 1 from encryption_keys where purpose = 'index') as present`)
      .then((rows) => rows[0]?.present === true, () => false);
    if (!present) return undefined;
    const encryption = new RegistryEncryption(await KeyRing.open(database.db, new LocalKeyProvider(benchKek())));
    return (idType, value) => encryption.identifierIndex(idType, value);
  } finally {
    await database.close();
  }
}
