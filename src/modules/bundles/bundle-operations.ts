import type { TSchema } from 'typebox';
import type { Tx } from '../../platform/database/database.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { versionFromIfMatch } from '../../platform/versioning.js';
import { createBodyValidator } from '../../platform/http/validation.js';
import { AppError } from '../../platform/errors.js';
import type { RegistryService } from '../registry/registry.service.js';
import * as schemas from '../registry/registry.schemas.js';

/** The outcome of one bundle entry, as the HTTP route would have answered it. */
export interface OperationResult {
  status: number;
  resource: { id?: string; version?: number } & Record<string, unknown>;
  location?: string;
}

interface Operation {
  method: 'POST' | 'PATCH';
  /** Pattern over the url relative to /api/v2; named groups become parameters. */
  pattern: RegExp;
  scope: string;
  body: TSchema | undefined;
  run(registry: RegistryService, context: RequestContext, params: Record<string, string>, body: never, tx: Tx, ifMatch: string | undefined): Promise<OperationResult>;
}

const REF = '(?<ref>[^/]+)';
const created = (resource: OperationResult['resource'], kind: string): OperationResult => ({ status: 201, resource, location: `/api/v2/${kind}/${resource.id}` });
const ok = (resource: OperationResult['resource']): OperationResult => ({ status: 200, resource });

/**
 * The registry writes a bundle may contain: the same operations, schemas and scopes as the
 * single-request routes, run by the same service methods inside the bundle's transaction.
 */
export const bundleOperations: Operation[] = [
  { method: 'POST', pattern: /^Individual$/, scope: 'individual:write', body: schemas.IndividualInput,
    run: async (r, c, _p, body: schemas.IndividualInput, tx) => created(await r.createIndividual(c, body, tx) as never, 'Individual') },
  { method: 'POST', pattern: /^Group$/, scope: 'group:write', body: schemas.GroupInput,
    run: async (r, c, _p, body: schemas.GroupInput, tx) => created(await r.createGroup(c, body, tx) as never, 'Group') },
  { method: 'PATCH', pattern: new RegExp(`^Individual/${REF}$`), scope: 'individual:write', body: schemas.IndividualPatch,
    run: async (r, c, p, body: schemas.IndividualPatch, tx, ifMatch) => ok(await r.updateIndividual(c, p.ref!, body, versionFromIfMatch(ifMatch), tx) as never) },
  { method: 'PATCH', pattern: new RegExp(`^Group/${REF}$`), scope: 'group:write', body: schemas.GroupPatch,
    run: async (r, c, p, body: schemas.GroupPatch, tx, ifMatch) => ok(await r.updateGroup(c, p.ref!, body, versionFromIfMatch(ifMatch), tx) as never) },
  { method: 'POST', pattern: new RegExp(`^Group/${REF}/members$`), scope: 'group:write', body: schemas.MemberInput,
    run: async (r, c, p, body: schemas.MemberInput, tx) => ({ ...ok(await r.addMember(c, p.ref!, body, tx) as never), status: 201 }) },
  { method: 'POST', pattern: new RegExp(`^Group/${REF}/members/(?<individual>[^/]+)/\\$end$`), scope: 'group:write', body: schemas.EndMembershipInput,
    run: async (r, c, p, body: schemas.EndMembershipInput, tx) => ok(await r.endMember(c, p.ref!, p.individual!, body, tx) as never) },
  { method: 'POST', pattern: new RegExp(`^Group/${REF}/\\$change-head$`), scope: 'group:write', body: schemas.ChangeHeadInput,
    run: async (r, c, p, body: schemas.ChangeHeadInput, tx) => ok(await r.changeHead(c, p.ref!, body, tx) as never) },
  { method: 'POST', pattern: new RegExp(`^Individual/${REF}/relationships$`), scope: 'individual:write', body: schemas.RelationshipInput,
    run: async (r, c, p, body: schemas.RelationshipInput, tx) => ({ status: 201, resource: await r.addRelationship(c, p.ref!, body, tx) as never }) },
  { method: 'POST', pattern: new RegExp(`^Individual/${REF}/\\$deactivate$`), scope: 'individual:write', body: schemas.DeactivateInput,
    run: async (r, c, p, body: schemas.DeactivateInput, tx) => ok(await r.deactivate(c, 'individual', p.ref!, body, tx) as never) },
  { method: 'POST', pattern: new RegExp(`^Group/${REF}/\\$deactivate$`), scope: 'group:write', body: schemas.DeactivateInput,
    run: async (r, c, p, body: schemas.DeactivateInput, tx) => ok(await r.deactivate(c, 'group', p.ref!, body, tx) as never) },
];

const validators = new Map(bundleOperations.map((operation) => [operation, operation.body ? createBodyValidator(operation.body) : undefined]));

export function findOperation(method: string, url: string): { operation: Operation; params: Record<string, string>; validate?: ReturnType<typeof createBodyValidator> } | undefined {
  const path = url.replace(/^\/?(api\/v2\/)?/, '');
  for (const operation of bundleOperations) {
    if (operation.method !== method) continue;
    const match = operation.pattern.exec(path);
    if (match) {
      const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([key, value]) => [key, decodeSegment(value)]));
      return { operation, params, validate: validators.get(operation) };
    }
  }
  return undefined;
}

/** A percent-encoded url segment; a malformed encoding is the client's mistake (400), not ours. */
function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw AppError.validation(`"${value}" is not a valid percent-encoded url segment`, [{ path: '/request/url', message: 'has a malformed percent-encoding' }]);
  }
}
