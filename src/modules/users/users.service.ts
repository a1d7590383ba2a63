import crypto from 'node:crypto';
import type { Db, Queryable } from '../../platform/database/database.js';
import { isUniqueViolation } from '../../platform/database/database-errors.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { assertVersion } from '../../platform/versioning.js';
import { assertPasswordPolicy, hashPassword } from '../../platform/auth/passwords.js';
import { isRoleName, roles, type RoleAssignment } from '../../platform/auth/roles.js';
import {
  countActiveHolders, findRoleRows, findUserByUsername, insertUser, listUserRows, lockAdministratorChanges, lockUserByUsername, replaceRoleRows,
  revokeUserSessions, updateUserRow, type RoleRow, type UserRow,
} from './users.repository.js';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
const ADMINISTRATOR = 'administrator';

/** The slice of the area service this module needs. */
export interface AreaLookup {
  findAreaByCode(code: string): Promise<{ id: number; code: string } | undefined>;
}

export interface UserView {
  username: string;
  displayName: string;
  email: string | null;
  isActive: boolean;
  roles: RoleAssignment[];
  /** Until when sign-in is refused after too many failed attempts; null when not locked. */
  lockedUntil: string | null;
  lastLoginAt: string | null;
  passwordChangedAt: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A role to give: `areas` absent or empty = everywhere. */
export interface RoleInput {
  role: string;
  areas?: string[];
}

export interface NewUser {
  username: string;
  displayName: string;
  email?: string | null;
  password: string;
  roles?: RoleInput[];
}

export interface UserChanges {
  displayName?: string;
  email?: string | null;
  isActive?: boolean;
}

/** Staff accounts: creation, profile, password, roles (from the permission matrix), unlocking. */
export class UserService {
  constructor(private readonly db: Db, private readonly areas: AreaLookup) {}

  async createUser(context: RequestContext, input: NewUser): Promise<UserView> {
    const username = normaliseUsername(input.username);
    const displayName = requireDisplayName(input.displayName);
    assertPasswordPolicy(input.password, username);
    const assignments = await this.resolveAssignments(input.roles ?? []);
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.db.transaction(async (tx) => {
        const row = await insertUser(tx, { uuid: crypto.randomUUID(), username, displayName, email: input.email ?? null, passwordHash });
        await replaceRoleRows(tx, row.id, assignments.rows, context.actor.id);
        const view = toView(row, await findRoleRows(tx, [row.id]));
        await recordAudit(tx, context, { action: 'create', entityType: 'user', entityId: username, after: auditable(view) });
        return view;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('conflict', `A user named ${username} already exists`, [{ path: '/username', message: 'is taken' }]);
      throw error;
    }
  }

  async listUsers(): Promise<UserView[]> {
    const rows = await listUserRows(this.db);
    const roleRows = await findRoleRows(this.db, rows.map((row) => row.id));
    return rows.map((row) => toView(row, roleRows));
  }

  async getUser(username: string): Promise<UserView> {
    const row = await this.requireUser(this.db, username);
    return toView(row, await findRoleRows(this.db, [row.id]));
  }

  /** Profile and activation; deactivating ends the user's sessions at once. */
  async updateUser(context: RequestContext, username: string, expectedVersion: number, changes: UserChanges): Promise<UserView> {
    const displayName = changes.displayName === undefined ? undefined : requireDisplayName(changes.displayName);
    return this.change(context, username, 'update', async (tx, row) => {
      assertVersion(expectedVersion, row.version, `User ${row.username}`);
      if (changes.isActive === false) await this.assertAdministratorRemains(tx, row, { keepsRole: true, staysActive: false });
      if (changes.isActive === false) await revokeUserSessions(tx, row.id);
      return { displayName, email: changes.email, isActive: changes.isActive };
    });
  }

  /** Sets a new password (checked against the policy) and ends the user's sessions. */
  async setPassword(context: RequestContext, username: string, password: string): Promise<UserView> {
    assertPasswordPolicy(password, normaliseUsername(username));
    const passwordHash = await hashPassword(password);
    return this.change(context, username, 'set-password', async (tx, row) => {
      await revokeUserSessions(tx, row.id);
      return { passwordHash, passwordChangedAt: new Date() };
    });
  }

  /** Replaces every role of the user; takes effect on their next request. */
  async setRoles(context: RequestContext, username: string, assignments: RoleInput[]): Promise<UserView> {
    const resolved = await this.resolveAssignments(assignments);
    return this.change(context, username, 'set-roles', async (tx, row) => {
      await this.assertAdministratorRemains(tx, row, { keepsRole: resolved.rows.some((assignment) => assignment.role === ADMINISTRATOR), staysActive: row.isActive });
      await replaceRoleRows(tx, row.id, resolved.rows, context.actor.id);
      return {};
    });
  }

  /** Lifts a lockout and clears the failure count. */
  async unlock(context: RequestContext, username: string): Promise<UserView> {
    return this.change(context, username, 'unlock', async () => ({ failedLoginCount: 0, lockedUntil: null }));
  }

  /** One audited change of one user, in a transaction, with the version bumped. */
  private async change(
    context: RequestContext,
    username: string,
    action: string,
    apply: (tx: Queryable, row: UserRow) => Promise<Partial<UserRow>>,
  ): Promise<UserView> {
    return this.db.transaction(async (tx) => {
      const row = await this.requireUser(tx, username, true);
      const before = toView(row, await findRoleRows(tx, [row.id]));
      const values = Object.fromEntries(Object.entries(await apply(tx, row)).filter(([, value]) => value !== undefined));
      const updated = await updateUserRow(tx, row.id, { ...values, version: row.version + 1, updatedAt: new Date() });
      const after = toView(updated, await findRoleRows(tx, [row.id]));
      await recordAudit(tx, context, { action, entityType: 'user', entityId: row.username, before: auditable(before), after: auditable(after) });
      return after;
    });
  }

  /**
   * 409 when the change would leave no active user holding the administrator role (nobody could
   * then manage accounts). Such changes are serialised, so two administrators removing each other
   * at once cannot both succeed.
   */
  private async assertAdministratorRemains(tx: Queryable, row: UserRow, next: { keepsRole: boolean; staysActive: boolean }): Promise<void> {
    if (next.keepsRole && next.staysActive) return;
    const holdsRole = (await findRoleRows(tx, [row.id])).some((assignment) => assignment.role === ADMINISTRATOR);
    if (!row.isActive || !holdsRole) return;
    await lockAdministratorChanges(tx);
    if (await countActiveHolders(tx, ADMINISTRATOR, row.id) > 0) return;
    throw new AppError('conflict', `${row.username} is the last active administrator: give another active user the administrator role before ${next.staysActive ? 'removing it from this one' : 'deactivating this one'}`);
  }

  private async requireUser(db: Queryable, username: string, lock = false): Promise<UserRow> {
    const name = username.trim().toLowerCase();
    const row = lock ? await lockUserByUsername(db, name) : await findUserByUsername(db, name);
    if (!row) throw AppError.notFound(`User ${name}`);
    return row;
  }

  /** Checks roles and areas against the matrix: unknown role or area, or a binding the role does not allow, is a 400. */
  private async resolveAssignments(assignments: readonly RoleInput[]): Promise<{ rows: Array<{ role: string; areaId: number | null }> }> {
    const problems: FieldProblem[] = [];
    const rows: Array<{ role: string; areaId: number | null }> = [];
    const seen = new Set<string>();
    for (const [index, { role, areas = [] }] of assignments.entries()) {
      const path = `/roles/${index}`;
      if (!isRoleName(role)) {
        problems.push({ path: `${path}/role`, message: `is not a role; roles are ${Object.keys(roles).join(', ')}` });
        continue;
      }
      if (seen.has(role)) problems.push({ path: `${path}/role`, message: 'is listed twice; give all its areas in one entry' });
      seen.add(role);
      const binding = roles[role].areas;
      if (binding === 'global' && areas.length > 0) problems.push({ path: `${path}/areas`, message: `must be empty: ${role} is a national role` });
      if (binding === 'required' && areas.length === 0) problems.push({ path: `${path}/areas`, message: `must list at least one area: ${role} is a local role` });
      if (areas.length === 0) rows.push({ role, areaId: null });
      for (const [areaIndex, code] of [...new Set(areas)].entries()) {
        const area = await this.areas.findAreaByCode(code);
        if (!area) problems.push({ path: `${path}/areas/${areaIndex}`, message: `area ${code} does not exist` });
        else rows.push({ role, areaId: area.id });
      }
    }
    if (problems.length > 0) throw AppError.validation('The roles are not valid', problems);
    return { rows };
  }
}

export function normaliseUsername(username: string): string {
  const name = username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(name)) {
    throw AppError.validation('A username has 2 to 64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit', [{ path: '/username', message: 'is not a valid username' }]);
  }
  return name;
}

function requireDisplayName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw AppError.validation('A user needs a display name', [{ path: '/displayName', message: 'is required' }]);
  return trimmed;
}

/** Role rows grouped by role: one entry per role, its areas sorted (empty = global). */
export function assignmentsOf(roleRows: RoleRow[], userId: number): RoleAssignment[] {
  const byRole = new Map<string, string[]>();
  for (const row of roleRows) {
    if (row.userId !== userId) continue;
    const codes = byRole.get(row.role) ?? [];
    if (row.areaCode !== null) codes.push(row.areaCode);
    byRole.set(row.role, codes);
  }
  return [...byRole].map(([role, areas]) => ({ role, areas: areas.sort() }));
}

function toView(row: UserRow, roleRows: RoleRow[]): UserView {
  const locked = row.lockedUntil !== null && row.lockedUntil.getTime() > Date.now();
  return {
    username: row.username,
    displayName: row.displayName,
    email: row.email,
    isActive: row.isActive,
    roles: assignmentsOf(roleRows, row.id),
    lockedUntil: locked ? row.lockedUntil!.toISOString() : null,
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    passwordChangedAt: row.passwordChangedAt.toISOString(),
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What the audit log keeps of a user: never the password or its hash. */
function auditable(view: UserView): Record<string, unknown> {
  const { username: _username, version: _version, createdAt: _createdAt, updatedAt: _updatedAt, lastLoginAt: _lastLoginAt, ...rest } = view;
  return rest;
}
