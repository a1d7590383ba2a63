import type { Actor } from './access-tokens.js';
import type { Scope } from './scopes.js';

/**
 * Where a role may apply: `global` roles are never bound to areas (their work is national),
 * `optional` ones are global unless bound to areas, `required` ones must be bound to areas.
 */
export type AreaBinding = 'global' | 'optional' | 'required';

export interface RoleDefinition {
  description: string;
  areas: AreaBinding;
  permissions: readonly Scope[];
}

const readRegistry = ['individual:read', 'group:read', 'area:read', 'vocabulary:read', 'rule:read'] as const satisfies readonly Scope[];

/**
 * THE permission matrix: every staff role and the permissions (`resource:action` scopes) it grants.
 * Roles for change requests and grievances hold the registry permissions they need today plus
 * permissions declared in `scopes.ts` that no route uses yet (those modules come later).
 * `pii:reveal` (unmasked personal data) goes only to roles that must contact or identify people.
 * The administrator manages accounts and configuration but not beneficiary data (separation of duties).
 */
export const roles = {
  'registry-viewer': {
    description: 'Reads and searches the registry (personal data masked)',
    areas: 'optional',
    permissions: [...readRegistry],
  },
  registrar: {
    description: 'Registers and updates individuals and households, imports and exports',
    areas: 'optional',
    permissions: [...readRegistry, 'individual:write', 'group:write', 'job:read', 'pii:reveal', 'consent:read', 'consent:write', 'change-request:write'],
  },
  'registry-manager': {
    description: 'Registrar duties plus oversight of the registry and its change requests',
    areas: 'optional',
    permissions: [...readRegistry, 'individual:write', 'group:write', 'job:read', 'pii:reveal', 'consent:read', 'consent:write', 'change-request:read', 'change-request:write'],
  },
  'program-officer': {
    description: 'Enrols registrants into programs and reviews suspected duplicates',
    areas: 'optional',
    permissions: [...readRegistry, 'job:read', 'program:read', 'enrollment:read', 'enrollment:write', 'entitlement:read'],
  },
  'program-manager': {
    description: 'Defines programs, eligibility and entitlements, prepares cycles and payment batches, reconciles payments',
    areas: 'global',
    permissions: [...readRegistry, 'job:read', 'program:read', 'program:write', 'enrollment:read', 'enrollment:write', 'entitlement:read', 'entitlement:write', 'payment:read', 'payment:write'],
  },
  'finance-approver': {
    description: 'Approves cycles\' entitlements (not the ones they prepared) and sends payment batches',
    areas: 'global',
    permissions: [...readRegistry, 'job:read', 'program:read', 'entitlement:read', 'entitlement:approve', 'payment:read', 'payment:approve'],
  },
  'change-request-validator-local': {
    description: 'First validation of change requests in its areas (change requests: not built yet)',
    areas: 'required',
    permissions: [...readRegistry, 'pii:reveal', 'change-request:read', 'change-request:validate-local'],
  },
  'change-request-validator-hq': {
    description: 'Final validation of change requests, nationally (change requests: not built yet)',
    areas: 'global',
    permissions: [...readRegistry, 'pii:reveal', 'change-request:read', 'change-request:validate-hq'],
  },
  'grievance-officer': {
    description: 'Records and resolves grievances (grievances: not built yet)',
    areas: 'optional',
    permissions: [...readRegistry, 'pii:reveal', 'consent:read', 'grievance:read', 'grievance:write'],
  },
  auditor: {
    description: 'Reads the audit log and the configuration; personal data masked',
    areas: 'global',
    permissions: [...readRegistry, 'job:read', 'audit:read', 'consent:read', 'user:read', 'client:read'],
  },
  administrator: {
    description: 'Manages staff accounts, API clients, DCI partners, areas and vocabularies',
    areas: 'global',
    permissions: ['area:read', 'area:write', 'vocabulary:read', 'vocabulary:write', 'job:read', 'audit:read', 'user:read', 'user:write', 'client:read', 'client:write', 'dci:admin'],
  },
} as const satisfies Record<string, RoleDefinition>;

export type RoleName = keyof typeof roles;
export const roleNames = Object.keys(roles) as RoleName[];

export function isRoleName(name: string): name is RoleName {
  return Object.hasOwn(roles, name);
}

/** A role held by a user: `areas` empty = everywhere, otherwise only in those areas' subtrees. */
export interface RoleAssignment {
  role: string;
  areas: string[];
}

/**
 * The actor a signed-in user acts as: the union of the permissions of their roles, each limited to
 * the areas of the local assignments granting it, unless some global assignment grants it too.
 * Unknown role names (e.g. a role removed from the matrix) grant nothing.
 */
export function actorForUser(username: string, assignments: readonly RoleAssignment[]): Actor {
  const scopes = new Set<string>();
  const globalPermissions = new Set<string>();
  const localAreas = new Map<string, Set<string>>();
  for (const { role, areas } of assignments) {
    if (!isRoleName(role)) continue;
    for (const permission of roles[role].permissions) {
      scopes.add(permission);
      if (areas.length === 0) globalPermissions.add(permission);
      else {
        const codes = localAreas.get(permission) ?? new Set<string>();
        for (const code of areas) codes.add(code);
        localAreas.set(permission, codes);
      }
    }
  }
  const areaLimits = new Map<string, string[]>();
  for (const [permission, codes] of localAreas) {
    if (!globalPermissions.has(permission)) areaLimits.set(permission, [...codes].sort());
  }
  return { type: 'user', id: username, scopes, areaLimits };
}

/** Reads `ROLE` or `ROLE@AREA,AREA` (the CLI's `--role`); whether role and areas exist is checked later. */
export function parseRoleSpec(spec: string): { role: string; areas: string[] } {
  const [role = '', areaList] = spec.split('@', 2);
  return { role: role.trim(), areas: areaList ? areaList.split(',').map((code) => code.trim()).filter(Boolean) : [] };
}
