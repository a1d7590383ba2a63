import type { Config } from '../platform/config.js';
import type { System } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { runCommand } from './users.js';

const cli = { actor: systemActor('cli') };

/** `client rotate-secret`: the new secret is printed once; the old one lasts the grace period. */
export async function clientRotateSecret(system: System, options: { clientId: string; graceSeconds?: number; json?: boolean }): Promise<string> {
  const client = await system.services.apiClients.rotateSecret(cli, options.clientId, options.graceSeconds);
  if (options.json) return JSON.stringify({ clientId: client.clientId, clientSecret: client.clientSecret, previousSecretExpiresAt: client.previousSecretExpiresAt });
  return [
    `New secret for ${client.clientId}`,
    `  client_secret: ${client.clientSecret}`,
    client.previousSecretExpiresAt ? `The previous secret works until ${client.previousSecretExpiresAt}.` : 'The previous secret no longer works.',
    'The secret is shown only now; store it safely.',
  ].join('\n');
}

export interface ClientUpdateOptions {
  clientId: string;
  areas?: string;
  legalBasis?: string;
  rateLimit?: number;
  tokenTtl?: number;
}

/** `client update`: only the options given change; `--areas ""` lifts the area limit. */
export async function clientUpdate(system: System, options: ClientUpdateOptions): Promise<string> {
  const client = await system.services.apiClients.updateClient(cli, options.clientId, undefined, {
    areaCodes: options.areas === undefined ? undefined : options.areas.split(/[\s,]+/).filter(Boolean),
    legalBasis: options.legalBasis,
    rateLimitPerMinute: options.rateLimit,
    tokenTtlSeconds: options.tokenTtl,
  });
  return `Updated ${client.clientId}: areas ${client.areaCodes.join(',') || '(everywhere)'}, legal basis ${client.legalBasis}, `
    + `rate limit ${client.rateLimitPerMinute ?? '(default)'}/min, token lifetime ${client.tokenTtlSeconds ?? '(default)'} s`;
}

export const clientRotateSecretCommand = (config: Config, options: { clientId: string; graceSeconds?: number; json?: boolean }) => runCommand(config, (system) => clientRotateSecret(system, options));
export const clientUpdateCommand = (config: Config, options: ClientUpdateOptions) => runCommand(config, (system) => clientUpdate(system, options));
