import type { Config } from '../platform/config.js';
import { createSystem, type System } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { generatePassword } from '../platform/auth/passwords.js';
import { parseRoleSpec } from '../platform/auth/roles.js';
import type { UserView } from '../modules/users/users.service.js';

// Each command is a function of the System returning the text to print (tested in-process), and a
// wrapper that opens the system from the configuration, prints, and closes it.

const cli = { actor: systemActor('cli') };

/** Runs `work` on the system (no job workers), prints what it returns, and closes the system. */
export async function runCommand(config: Config, work: (system: System) => Promise<string>): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    console.log(await work(system));
  } finally {
    await system.close();
  }
}

/** The whole of standard input, without its final line break: passwords never go on the command line. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export interface UserCreateOptions {
  username: string;
  name: string;
  email?: string;
  role: string[];
  passwordStdin?: boolean;
  json?: boolean;
}

/** `user create`: without a password given, one is generated and printed once. */
export async function userCreate(system: System, options: UserCreateOptions & { password?: string }): Promise<string> {
  const generated = options.password === undefined ? generatePassword() : undefined;
  const user = await system.services.users.createUser(cli, {
    username: options.username, displayName: options.name, email: options.email, password: options.password ?? generated!, roles: options.role.map(parseRoleSpec),
  });
  if (options.json) return JSON.stringify({ ...user, ...(generated ? { password: generated } : {}) });
  const lines = [`Created user ${user.username} (${user.displayName}) with roles: ${describeRoles(user)}`];
  if (generated) lines.push(`  password: ${generated}`, 'The password is shown only now; hand it over safely.');
  return lines.join('\n');
}

export async function userList(system: System, options: { json?: boolean }): Promise<string> {
  const users = await system.services.users.listUsers();
  if (options.json) return JSON.stringify(users);
  return users.map((user) => [user.username, user.displayName, describeRoles(user), user.isActive ? 'active' : 'inactive', user.lockedUntil ? `locked until ${user.lockedUntil}` : '']
    .join('\t').trimEnd()).join('\n');
}

/** `user set-roles`: replaces every role (none given = no roles left). */
export async function userSetRoles(system: System, options: { username: string; role: string[] }): Promise<string> {
  const user = await system.services.users.setRoles(cli, options.username, options.role.map(parseRoleSpec));
  return `${user.username} now holds: ${describeRoles(user)}`;
}

/** `user deactivate` / `user activate`: a deactivated user cannot sign in; their sessions end at once. */
export async function userSetActive(system: System, options: { username: string; active: boolean }): Promise<string> {
  const current = await system.services.users.getUser(options.username);
  const user = await system.services.users.updateUser(cli, current.username, current.version, { isActive: options.active });
  return `${user.username} is ${user.isActive ? 'active' : 'deactivated: their sessions are ended'}`;
}

export async function userUnlock(system: System, options: { username: string }): Promise<string> {
  const user = await system.services.users.unlock(cli, options.username);
  return `${user.username} is unlocked`;
}

export async function userSetPassword(system: System, options: { username: string; password?: string }): Promise<string> {
  const generated = options.password === undefined ? generatePassword() : undefined;
  const user = await system.services.users.setPassword(cli, options.username, options.password ?? generated!);
  const lines = [`Password of ${user.username} changed; their sessions have ended`];
  if (generated) lines.push(`  password: ${generated}`, 'The password is shown only now; hand it over safely.');
  return lines.join('\n');
}

export async function userCreateCommand(config: Config, options: UserCreateOptions): Promise<void> {
  const password = options.passwordStdin ? await readStdin() : undefined;
  await runCommand(config, (system) => userCreate(system, { ...options, password }));
}

export async function userSetPasswordCommand(config: Config, options: { username: string; passwordStdin?: boolean }): Promise<void> {
  const password = options.passwordStdin ? await readStdin() : undefined;
  await runCommand(config, (system) => userSetPassword(system, { username: options.username, password }));
}

export const userListCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => userList(system, options));
export const userSetRolesCommand = (config: Config, options: { username: string; role: string[] }) => runCommand(config, (system) => userSetRoles(system, options));
export const userSetActiveCommand = (config: Config, options: { username: string; active: boolean }) => runCommand(config, (system) => userSetActive(system, options));
export const userUnlockCommand = (config: Config, options: { username: string }) => runCommand(config, (system) => userUnlock(system, options));

function describeRoles(user: UserView): string {
  if (user.roles.length === 0) return '(none)';
  return user.roles.map(({ role, areas }) => (areas.length > 0 ? `${role}@${areas.join(',')}` : role)).join(' ');
}
