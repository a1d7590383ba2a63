/**
 * Every scope a client can be granted, `resource:action`. Routes name one of these; `client create`
 * refuses anything else. `resource:*` grants every action on a resource, `*` everything.
 */
export const knownScopes = [
  'individual:read', 'individual:write',
  'group:read', 'group:write',
  'area:read', 'area:write',
  'vocabulary:read', 'vocabulary:write',
  'job:read',
  'audit:read',
  // A registrant's consents to processing by third parties (the consents module).
  'consent:read', 'consent:write',
  // Staff accounts and API clients (the admin API), and seeing personal data unmasked.
  'user:read', 'user:write',
  'client:read', 'client:write',
  'pii:reveal',
  // The rules language: validate, preview (which also needs the registrant kind's read) and symbols.
  'rule:read',
  // DCI (SPDCI) partners: the registry API under DCI_PREFIX, and its administration (partners).
  'dci:search', 'dci:subscribe', 'dci:txn-status', 'dci:admin',
  // DCI registries we call (CRVS, IBR, DR) calling our callback endpoints (on-search, notify, …).
  'dci:callback',
  // Programs (the programs module): definitions, funds, cycles and service points; enrolment and
  // duplicate review; entitlements prepared (write) and approved by someone else (approve); payment
  // batches, reconciliation and manual payment (write) and sending a batch to its provider (approve).
  'program:read', 'program:write',
  'enrollment:read', 'enrollment:write',
  'entitlement:read', 'entitlement:write', 'entitlement:approve',
  'payment:read', 'payment:write', 'payment:approve',
  // Declared for the roles of modules still to come (change requests, grievances): no route uses
  // them yet, so granting them changes nothing today.
  'change-request:read', 'change-request:write', 'change-request:validate-local', 'change-request:validate-hq',
  'grievance:read', 'grievance:write',
] as const;

export type Scope = (typeof knownScopes)[number];

export function isKnownScope(scope: string): boolean {
  if (scope === '*') return true;
  if (scope.endsWith(':*')) return knownScopes.some((known) => known.startsWith(scope.slice(0, -1)));
  return (knownScopes as readonly string[]).includes(scope);
}
