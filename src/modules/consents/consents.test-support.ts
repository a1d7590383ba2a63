import { AccessTokens, systemActor } from '../../platform/auth/access-tokens.js';
import type { TestSystem } from '../../test-support/test-system.js';

let counter = 0;

/**
 * Authorization for a new API client processing under consent for `organisation` (and/or its
 * type). With `purpose`, the token carries that purpose claim (no client setting declares one yet).
 */
export async function consentClientAuth(
  system: TestSystem,
  options: { organisation?: string; organisationType?: string; purpose?: string; scopes?: string[] },
): Promise<{ authorization: string }> {
  counter += 1;
  // pii:reveal: these tests look at which fields consent releases, not at masking.
  const scopes = options.scopes ?? ['individual:read', 'group:read', 'pii:reveal'];
  const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, {
    name: `consent client ${counter}`, scopes, legalBasis: 'consent', organisation: options.organisation, organisationType: options.organisationType,
  });
  if (options.purpose === undefined) {
    const grant = await system.services.apiClients.issueToken(client.clientId, client.clientSecret);
    return { authorization: `Bearer ${grant.accessToken}` };
  }
  const tokens = new AccessTokens(system.keys, system.config.publicUrl, 300);
  const { token } = await tokens.issue(client.clientId, scopes, {
    legalBasis: 'consent', organisation: options.organisation, organisationType: options.organisationType, purpose: options.purpose,
  });
  return { authorization: `Bearer ${token}` };
}

export const signedForm = { type: 'signed-form', reference: 'FORM-0001' } as const;

/** A consent for WFP to receive name and contact details for service provision. */
export const wfpTerms = {
  purposes: ['dpv:ServiceProvision'],
  dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact'],
  processingOperations: ['dpv:Use', 'dpv:Share'],
  recipient: { organisation: 'WFP' },
  legalNotice: 'https://example.org/notices/wfp-v1',
  collectionMethod: 'in-person interview',
};
