import crypto from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { AppError, type FieldProblem } from '../errors.js';

export const PASSWORD_MIN_LENGTH = 12;
// Bounded so a huge "password" cannot make hashing a denial of service.
export const PASSWORD_MAX_LENGTH = 256;

// Argon2id with the OWASP minimum (19 MiB, 2 passes, 1 lane). `Algorithm` is a const enum, which
// isolated modules cannot read, hence its value.
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Reasons `password` is refused for `username`; empty when acceptable. */
export function passwordProblems(password: string, username: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if ([...password].length < PASSWORD_MIN_LENGTH) problems.push({ path: '/password', message: `must have at least ${PASSWORD_MIN_LENGTH} characters` });
  if (password.length > PASSWORD_MAX_LENGTH) problems.push({ path: '/password', message: `must have at most ${PASSWORD_MAX_LENGTH} characters` });
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) problems.push({ path: '/password', message: 'must not be the username' });
  return problems;
}

export function assertPasswordPolicy(password: string, username: string): void {
  const problems = passwordProblems(password, username);
  if (problems.length > 0) throw AppError.validation(`The password is too weak: ${problems.map((p) => p.message).join('; ')}`, problems);
}

export async function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** False for a wrong password and for a hash that cannot be read (never throws on bad input). */
export async function verifyPassword(password: string, storedHash: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  return verify(storedHash, password).catch(() => false);
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of a real verification when there is no account to check, so the response time
 * does not tell whether a username exists.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(crypto.randomBytes(24).toString('base64url'));
  await verifyPassword(password.slice(0, PASSWORD_MAX_LENGTH), await dummyHash);
  return false;
}

/** A random password to hand out once (≈ 128 bits, URL-safe characters). */
export function generatePassword(): string {
  return crypto.randomBytes(16).toString('base64url');
}
