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
] as const;

export type Scope = (typeof knownScopes)[number];

export function isKnownScope(scope: string): boolean {
  if (scope === '*') return true;
  if (scope.endsWith(':*')) return knownScopes.some((known) => known.startsWith(scope.slice(0, -1)));
  return (knownScopes as readonly string[]).includes(scope);
}
