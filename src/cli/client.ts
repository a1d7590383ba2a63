import type { Config } from '../platform/config.js';
import { createSystem } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';

/** `commonweal client create`: prints the client id and its one-time secret. */
export async function clientCreateCommand(config: Config, options: { name: string; scopes: string; json?: boolean }): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    const scopes = options.scopes.split(/[\s,]+/).filter(Boolean);
    const client = await system.services.apiClients.createClient({ actor: systemActor('cli') }, { name: options.name, scopes });
    if (options.json) {
      console.log(JSON.stringify({ clientId: client.clientId, clientSecret: client.clientSecret, name: client.name, scopes: client.scopes }));
    } else {
      console.log(`Created API client "${client.name}"`);
      console.log(`  client_id:     ${client.clientId}`);
      console.log(`  client_secret: ${client.clientSecret}`);
      console.log(`  scopes:        ${client.scopes.join(' ')}`);
      console.log('The secret is shown only now; store it safely.');
    }
  } finally {
    await system.close();
  }
}

export async function clientListCommand(config: Config, options: { json?: boolean }): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    const clients = await system.services.apiClients.listClients();
    if (options.json) console.log(JSON.stringify(clients));
    else for (const client of clients) console.log(`${client.clientId}\t${client.name}\t${client.scopes.join(' ')}\t${client.isActive ? 'active' : 'inactive'}`);
  } finally {
    await system.close();
  }
}
