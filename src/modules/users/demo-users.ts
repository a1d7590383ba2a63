import fs from 'node:fs';
import path from 'node:path';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { generatePassword } from '../../platform/auth/passwords.js';
import { parseRoleSpec, roleNames, roles } from '../../platform/auth/roles.js';
import { AppError } from '../../platform/errors.js';
import type { AreaLookup, UserService } from './users.service.js';

export const DEMO_USERS_FILE = 'demo-users.json';
/** The demo region a local registrar is bound to (Northern Highlands). */
const DEMO_LOCAL_AREA = 'DM01';

export interface DemoAccount {
  username: string;
  password: string;
  roles: string[];
}

/**
 * One demo staff account per role (username = role name) and a registrar bound to one region.
 * Passwords are random per installation and kept (mode 0600) in DATA_DIR so each start can print
 * them again; an account created earlier whose password was not kept is listed as such.
 */
export async function ensureDemoUsers(users: UserService, areas: AreaLookup, dataDir: string): Promise<DemoAccount[]> {
  const file = path.join(dataDir, DEMO_USERS_FILE);
  const kept = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as DemoAccount[]) : [];
  const hasLocalArea = (await areas.findAreaByCode(DEMO_LOCAL_AREA)) !== undefined;
  // A role that must be bound to areas gets the demo region; without it, that account is left out.
  const wanted: Array<{ username: string; roles: string[] }> = roleNames
    .filter((role) => roles[role].areas !== 'required' || hasLocalArea)
    .map((role) => ({ username: role, roles: [roles[role].areas === 'required' ? `${role}@${DEMO_LOCAL_AREA}` : role] }));
  if (hasLocalArea) wanted.push({ username: 'registrar-north', roles: [`registrar@${DEMO_LOCAL_AREA}`] });
  const accounts: DemoAccount[] = [];
  for (const { username, roles: roleSpecs } of wanted) {
    const known = kept.find((account) => account.username === username);
    const exists = await users.getUser(username).then(() => true, (error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') return false;
      throw error;
    });
    if (exists) {
      accounts.push(known ?? { username, roles: roleSpecs, password: '(created earlier; its password was not kept here: use `commonweal user set-password`)' });
      continue;
    }
    const password = generatePassword();
    await users.createUser({ actor: systemActor('demo') }, {
      username,
      displayName: `Demo ${username.replace(/-/g, ' ')}`,
      password,
      roles: roleSpecs.map(parseRoleSpec),
    });
    accounts.push({ username, roles: roleSpecs, password });
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(accounts.filter((account) => !account.password.startsWith('(')), null, 2), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return accounts;
}
