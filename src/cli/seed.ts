import { SingleBar, Presets } from 'cli-progress';
import type { Config } from '../platform/config.js';
import { createSystem } from '../app.js';
import { seedRegistry } from '../modules/demo-data/seed-registry.js';

/** `commonweal seed --households N --seed S`: deterministic demo households, with a progress bar. */
export async function seedCommand(config: Config, options: { households: number; seed: number }): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  const bar = new SingleBar({ format: 'Seeding [{bar}] {value}/{total} households | {rate}/s | ETA {eta}s', hideCursor: true }, Presets.shades_classic);
  const started = Date.now();
  bar.start(options.households, 0, { rate: '0' });
  try {
    const result = await seedRegistry(system.services, {
      households: options.households,
      seed: options.seed,
      // On PostgreSQL the next batch is prepared while the previous one is written (PGlite: one connection).
      concurrency: config.databaseUrl ? 2 : 1,
      onProgress: (done) => bar.update(done, { rate: (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0) }),
    });
    bar.stop();
    console.log(`Seeded ${result.households} households and ${result.individuals} individuals in ${result.seconds.toFixed(1)} s (${(result.individuals / Math.max(result.seconds, 0.001)).toFixed(0)} individuals/s).`);
  } finally {
    bar.stop();
    await system.close();
  }
}
