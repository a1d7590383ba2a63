import { describe, expect, test } from 'vitest';
import { ApiProblem } from './client';
import { createQueryClient, SESSION_QUERY_KEY } from './query-client';

describe('query client', () => {
  test('a 401 from any query forgets the session (the app goes back to sign-in); other errors do not', async () => {
    const client = createQueryClient();
    client.setQueryData(SESSION_QUERY_KEY, { username: 'registrar' });
    await expect(client.fetchQuery({ queryKey: ['x'], queryFn: () => Promise.reject(new ApiProblem(404, 'not_found', 'gone')) })).rejects.toThrow('gone');
    expect(client.getQueryData(SESSION_QUERY_KEY)).toEqual({ username: 'registrar' });
    await expect(client.fetchQuery({ queryKey: ['y'], queryFn: () => Promise.reject(new ApiProblem(401, 'unauthenticated', 'session ended')) })).rejects.toThrow();
    expect(client.getQueryData(SESSION_QUERY_KEY)).toBeNull();
  });
});
