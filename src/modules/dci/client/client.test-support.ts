import crypto from 'node:crypto';
import type { JWK } from 'jose';
import type { System } from '../../../app.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { DciSimulator, type SimKind } from '../simulators/sim-server.js';

export const OUR_SENDER = 'commonweal.test';

/**
 * A reference registry wired to a running test system: the simulator knows our OAuth client and
 * our public keys; our data source knows its URL, keys and OAuth client, and has callback credentials.
 */
export async function wireSimulator(system: System, kind: SimKind, ourUrl: string, code = `${kind}_main`): Promise<DciSimulator> {
  const clientSecret = crypto.randomBytes(16).toString('hex');
  const context = { actor: systemActor('test') };
  const ourKeys = system.dci.keys.jwks().keys.filter((key) => key.use === 'sig') as JWK[];
  // The callback client first: the simulator needs its credentials.
  const callbackClient = await system.services.apiClients.createClient(context, { name: `${kind} callbacks`, scopes: ['dci:callback'] });
  const simulator = new DciSimulator({
    kind,
    clients: [{
      clientId: 'commonweal', clientSecret, senderId: OUR_SENDER, publicKeys: ourKeys,
      callback: { tokenUrl: `${ourUrl}/oauth2/client/token`, clientId: callbackClient.clientId, clientSecret: callbackClient.clientSecret },
    }],
    callbackDelayMs: 20,
  });
  const url = await simulator.start();
  await system.dciClients.sources.create(context, {
    code, name: `${kind.toUpperCase()} reference registry`, registryType: kind.toUpperCase() as 'CRVS', baseUrl: url,
    authType: 'oauth2', oauthClientId: 'commonweal', clientSecret, ourSenderId: OUR_SENDER, receiverId: simulator.senderId,
    jwksUrl: `${url}/.well-known/jwks.json`, callbackUrl: `${ourUrl}/dci/client`, callbackClientId: callbackClient.clientId, timeoutMs: 2_000,
  });
  return simulator;
}
