import type { Config } from '../platform/config.js';
import type { System } from '../app.js';
import { runCommand } from './users.js';

/** `keys rotate`: a new key signs from now on; older ones keep verifying until retired. */
export async function keysRotate(system: System, options: { json?: boolean }): Promise<string> {
  const kid = await system.keys.rotate();
  if (options.json) return JSON.stringify({ kid });
  return `New signing key ${kid}. Running servers sign with it after a restart; retire old keys once their tokens have expired (keys retire --kid …).`;
}

/** `keys retire`: tokens signed by the key stop working; the newest key is refused. */
export async function keysRetire(system: System, options: { kid: string }): Promise<string> {
  await system.keys.retire(options.kid);
  return `Retired signing key ${options.kid}; it is no longer published or accepted.`;
}

export async function keysList(system: System, options: { json?: boolean }): Promise<string> {
  const keys = await system.keys.list();
  if (options.json) return JSON.stringify(keys);
  return keys.map((key) => [key.kid, key.algorithm, key.createdAt.toISOString(), key.signing ? 'signing' : key.retiredAt ? `retired ${key.retiredAt.toISOString()}` : 'verifying'].join('\t')).join('\n');
}

export const keysRotateCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => keysRotate(system, options));
export const keysRetireCommand = (config: Config, options: { kid: string }) => runCommand(config, (system) => keysRetire(system, options));
export const keysListCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => keysList(system, options));
