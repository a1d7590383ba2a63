import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken, toProblem, ApiProblem } from '../api/client';
// The server's own role matrix (type-only imports there), so the UI shows exactly the actions the API allows.
import { isRoleName, roles } from '../../../src/platform/auth/roles';

export interface SessionUser {
  username: string;
  displayName: string;
  roles: Array<{ role: string; areas: string[] }>;
}

/** The permissions (`resource:action` scopes) the user's roles grant, in some area or everywhere. */
export function permissionsOf(user: SessionUser | undefined): Set<string> {
  const granted = new Set<string>();
  for (const { role } of user?.roles ?? []) {
    if (isRoleName(role)) for (const permission of roles[role].permissions) granted.add(permission);
  }
  return granted;
}

interface AuthState {
  user: SessionUser | undefined;
  isLoading: boolean;
  /** True after the user signed out in this tab (the sign-in screen says so). */
  hasSignedOut: boolean;
  can(permission: string): boolean;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<AuthState | undefined>(undefined);
const SESSION_KEY = ['session'];

async function fetchSession(): Promise<SessionUser | null> {
  const { data, error, response } = await api.GET('/auth/session');
  const { status } = response;
  if (status === 401) return null;
  if (error !== undefined || !data) throw toProblem(status, error);
  setCsrfToken(data.csrfToken);
  return data.user;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [hasSignedOut, setSignedOut] = useState(false);
  const session = useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 5 * 60_000, retry: false });

  const signIn = useMutation({
    mutationFn: async ({ username, password }: { username: string; password: string }) => {
      const { data, error, response } = await api.POST('/auth/login', { body: { username, password } });
      const { status } = response;
      if (error !== undefined || !data) throw toProblem(status, error);
      setCsrfToken(data.csrfToken);
      return data.user;
    },
    onSuccess: (user) => {
      setSignedOut(false);
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, user);
    },
  });
  const signOut = useMutation({
    mutationFn: async () => {
      const { response } = await api.POST('/auth/logout');
      if (!response.ok && response.status !== 401) throw toProblem(response.status, undefined);
    },
    onSettled: () => {
      setSignedOut(true);
      setCsrfToken(undefined);
      // Nothing read under the old session stays in memory.
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, null);
    },
  });

  const user = session.data ?? undefined;
  const value = useMemo<AuthState>(() => {
    const permissions = permissionsOf(user);
    return {
      user,
      isLoading: session.isLoading,
      hasSignedOut,
      can: (permission) => permissions.has(permission),
      signIn: async (username, password) => { await signIn.mutateAsync({ username, password }); },
      signOut: async () => { await signOut.mutateAsync(); },
    };
  }, [user, session.isLoading, hasSignedOut, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}

/** An ApiProblem for a 401 means the session ended: the app sends the user back to sign in. */
export const isSessionEnded = (error: unknown) => error instanceof ApiProblem && error.status === 401;
