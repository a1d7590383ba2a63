import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { vi } from 'vitest';
import { AuthProvider } from '../auth/auth';
import { I18nProvider, type Locale } from '../i18n/i18n';

export interface FakeResponse { status?: number; body?: unknown; headers?: Record<string, string> }
export type Handler = (request: { method: string; url: URL; body: string; headers: Headers }) => FakeResponse | undefined;

/** Vocabularies every screen asks for, answered by default. */
const vocabularies: Record<string, Array<{ code: string; label: string }>> = {
  gender: [{ code: '1', label: 'Male' }, { code: '2', label: 'Female' }],
  'group-type': [{ code: 'household', label: 'Household' }],
  'membership-role': [{ code: 'head', label: 'Head' }, { code: 'child', label: 'Child of the head' }, { code: 'spouse', label: 'Spouse of the head' }],
  'civil-status': [{ code: 'single', label: 'Single' }, { code: 'married', label: 'Married' }],
  'id-type': [{ code: 'national-id', label: 'National ID' }, { code: 'household-id', label: 'Household ID' }],
};

export const registrar = { username: 'registrar', displayName: 'Demo registrar', roles: [{ role: 'registrar', areas: [] }] };

/**
 * Replaces fetch: `handler` answers what the test is about; the session, vocabularies and areas
 * have defaults. Returns the requests seen, to assert what was sent.
 */
export function stubApi(handler: Handler, user: unknown = registrar) {
  const seen: Array<{ method: string; url: URL; body: string; headers: Headers }> = [];
  const fetchStub = vi.fn(async (input: Request | string, init?: RequestInit) => {
    const request = typeof input === 'string' ? new Request(new URL(input, 'http://localhost:3000'), init) : input;
    const entry = { method: request.method, url: new URL(request.url), body: request.method === 'GET' ? '' : await request.clone().text(), headers: request.headers };
    seen.push(entry);
    const answer = handler(entry) ?? defaults(entry, user);
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'content-type': (answer.status ?? 200) >= 400 ? 'application/problem+json' : 'application/json', ...answer.headers },
    });
  });
  vi.stubGlobal('fetch', fetchStub);
  return seen;
}

function defaults({ url }: { url: URL }, user: unknown): FakeResponse {
  if (url.pathname === '/auth/session') return user ? { body: { user, csrfToken: 'csrf-1', expiresAt: '2030-01-01T00:00:00Z' } } : { status: 401, body: { code: 'unauthenticated' } };
  const vocabulary = /^\/api\/v2\/Vocabulary\/([^/]+)$/.exec(url.pathname);
  if (vocabulary) return { body: { codes: (vocabularies[vocabulary[1]!] ?? []).map((code) => ({ ...code, isActive: true })) } };
  if (url.pathname === '/api/v2/Area') return { body: { items: [{ code: 'DM', name: 'Demo Republic', kind: 'country', parentCode: null, depth: 0, isActive: true }], links: { self: '' } } };
  if (url.pathname.startsWith('/api/v2/Area/')) return { body: { code: url.pathname.split('/').pop(), name: 'Some area', kind: 'region', parentCode: 'DM', depth: 1, isActive: true, ancestors: [] } };
  return { status: 404, body: { code: 'not_found', detail: `no stub for ${url.pathname}` } };
}

/** Renders a screen inside the app's providers, at `path` matched by `route`. */
export function renderScreen(ui: ReactElement, { path = '/', route = '*', locale = 'en' as Locale } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <I18nProvider locale={locale}>
        <MemoryRouter initialEntries={[path]}>
          <AuthProvider>
            <Routes><Route path={route} element={ui} /></Routes>
          </AuthProvider>
        </MemoryRouter>
      </I18nProvider>
    </QueryClientProvider>,
  );
}
