import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../platform/auth/passwords.js';
import { roleNames } from '../../platform/auth/roles.js';

// Request and response schemas of sign-in (/auth) and of the user admin API (/api/v2/User).

const Username = Type.String({ minLength: 1, maxLength: 64, description: 'Login name (case-insensitive, stored lower-cased)' });
// Policy (length, not the username) is checked by the service, so the error names the rule broken.
const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, description: 'At least 12 characters, not the username' });
const DisplayName = Type.String({ minLength: 1, maxLength: 200 });
const Email = Type.String({ format: 'email', maxLength: 254 });
const AreaCodeList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'Area codes (whole subtrees); empty or absent = everywhere' });

export const RoleAssignment = Type.Object({
  role: Type.String({ minLength: 1, maxLength: 64, description: `One of: ${roleNames.join(', ')}` }),
  areas: Type.Optional(AreaCodeList),
}, { additionalProperties: false });

const RoleAssignmentView = Type.Object({ role: Type.String(), areas: Type.Array(Type.String()) });

export const LoginInput = Type.Object({ username: Type.String({ minLength: 1, maxLength: 200 }), password: Password }, { additionalProperties: false });

const SignedInUser = Type.Object({ username: Type.String(), displayName: Type.String(), roles: Type.Array(RoleAssignmentView) });

export const SessionView = Type.Object({
  user: SignedInUser,
  csrfToken: Type.String({ description: 'Send it as X-CSRF-Token with every POST, PUT, PATCH and DELETE of this session' }),
  expiresAt: Type.String({ format: 'date-time', description: 'When the session ends without further requests (slides forward, at most 24 h after sign-in)' }),
});

export const UsernameParams = Type.Object({ username: Username }, { additionalProperties: false });

export const UserInput = Type.Object({
  username: Username,
  displayName: DisplayName,
  email: Type.Optional(Email),
  password: Password,
  roles: Type.Optional(Type.Array(RoleAssignment, { maxItems: 50 })),
}, { additionalProperties: false });

export const UserPatch = Type.Object({
  displayName: Type.Optional(DisplayName),
  email: Type.Optional(Type.Union([Email, Type.Null()])),
  isActive: Type.Optional(Type.Boolean({ description: 'false ends the user\'s sessions and refuses sign-in' })),
}, { additionalProperties: false, description: 'JSON merge patch (RFC 7396); email null removes it' });

export const PasswordInput = Type.Object({ password: Password }, { additionalProperties: false });

export const RolesInput = Type.Array(RoleAssignment, { maxItems: 50, description: 'Every role of the user (replaces the current ones)' });

export const UserView = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  isActive: Type.Boolean(),
  roles: Type.Array(RoleAssignmentView, { description: 'Roles held; `areas` empty = everywhere' }),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Set while sign-in is refused after too many failed attempts' }),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  passwordChangedAt: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const UserList = Type.Object({ resourceType: Type.Literal('SearchResult'), count: Type.Integer(), items: Type.Array(UserView) });
