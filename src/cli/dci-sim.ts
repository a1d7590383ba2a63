import fs from 'node:fs';
import { DciSimulator, type SimKind } from '../modules/dci/simulators/sim-server.js';

export interface DciSimOptions {
  port: number;
  host: string;
  clientId: string;
  clientSecretFile?: string;
  senderId: string;
  clientJwksUrl: string;
  callbackTokenUrl?: string;
  callbackClientId?: string;
  callbackSecretFile?: string;
}

/** `commonweal sim crvs|ibr|dr`: a reference DCI registry until interrupted. */
export async function simRegistryCommand(kind: SimKind, options: DciSimOptions): Promise<void> {
  const clientSecret = options.clientSecretFile ? fs.readFileSync(options.clientSecretFile, 'utf8').trim() : 'dev-secret';
  const simulator = new DciSimulator({
    kind,
    clients: [{
      clientId: options.clientId, clientSecret, senderId: options.senderId, jwksUrl: options.clientJwksUrl,
      ...(options.callbackTokenUrl && options.callbackClientId && options.callbackSecretFile
        ? { callback: { tokenUrl: options.callbackTokenUrl, clientId: options.callbackClientId, clientSecret: fs.readFileSync(options.callbackSecretFile, 'utf8').trim() } }
        : {}),
    }],
  });
  const url = await simulator.start(options.port, options.host);
  console.log(`Reference ${kind.toUpperCase()} registry at ${url} (sender id ${simulator.senderId}; JWKS ${url}/.well-known/jwks.json; token ${url}/oauth2/client/token; client ${options.clientId}). POST ${url}/sim/events {type, record} to notify subscribers.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.stop();
}
