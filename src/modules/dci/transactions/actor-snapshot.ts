import type { Actor } from '../../../platform/auth/access-tokens.js';
import type { ApiClientView } from '../../api-clients/api-clients.service.js';

/**
 * Background DCI work acts as the partner did when it asked: the actor of its token (scopes, area
 * limits, legal basis) is kept with the transaction. Notifications act as the partner's API client
 * is configured now, so a narrowed or deactivated client stops receiving at once.
 */
export function actorSnapshot(actor: Actor): Record<string, unknown> {
  return {
    type: actor.type, id: actor.id, scopes: [...actor.scopes],
    areaLimits: actor.areaLimits ? [...actor.areaLimits.entries()] : null,
    legalBasis: actor.legalBasis ?? null, organisation: actor.organisation ?? null, organisationType: actor.organisationType ?? null, purpose: actor.purpose ?? null,
  };
}

export function actorFromSnapshot(snapshot: Record<string, unknown>): Actor {
  const actor: Actor = { type: snapshot.type as Actor['type'], id: String(snapshot.id), scopes: new Set(snapshot.scopes as string[]) };
  if (Array.isArray(snapshot.areaLimits)) actor.areaLimits = new Map(snapshot.areaLimits as Array<[string, string[]]>);
  if (typeof snapshot.legalBasis === 'string') actor.legalBasis = snapshot.legalBasis;
  if (typeof snapshot.organisation === 'string') actor.organisation = snapshot.organisation;
  if (typeof snapshot.organisationType === 'string') actor.organisationType = snapshot.organisationType;
  if (typeof snapshot.purpose === 'string') actor.purpose = snapshot.purpose;
  return actor;
}

/** The actor an API client's token would carry (see AccessTokens.verifySignature). */
export function clientActor(client: ApiClientView): Actor {
  const actor: Actor = { type: 'client', id: client.clientId, scopes: new Set(client.scopes), legalBasis: client.legalBasis };
  if (client.areaCodes.length > 0) actor.areaLimits = new Map([['*', client.areaCodes]]);
  if (client.organisation) actor.organisation = client.organisation;
  if (client.organisationType) actor.organisationType = client.organisationType;
  return actor;
}
