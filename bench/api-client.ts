import { runCommonweal, commonwealEnvironment } from './commonweal-cli.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** `commonweal client create --json --scopes '*'`: a client holding every scope, as an operator would create one. */
export async function createApiClient(databaseUrl: string): Promise<ClientCredentials> {
  const { stdout } = await runCommonweal(['client', 'create', '--json', '--name', `bench ${new Date().toISOString()}`, '--scopes', '*'], commonwealEnvironment(databaseUrl));
  const line = stdout.trim().split('\n').findLast((text) => text.startsWith('{'));
  if (!line) throw new Error(`commonweal client create printed no JSON:\n${stdout}`);
  const { clientId, clientSecret } = JSON.parse(line) as ClientCredentials;
  return { clientId, clientSecret };
}

/** An access token through the OAuth 2.0 client credentials grant, as any API client gets one. */
export async function fetchAccessToken(baseUrl: string, credentials: ClientCredentials): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth2/client/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  if (!response.ok) throw new Error(`The token endpoint answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}
