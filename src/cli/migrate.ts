import type { Config } from '../platform/config.js';
import { createSystem } from '../app.js';

/** `commonweal migrate`: applies migrations (createSystem does) and exits. */
export async function migrateCommand(config: Config): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  console.log(`Migrations applied (${system.database.kind}).`);
  await system.close();
}
