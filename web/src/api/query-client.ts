import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiProblem } from './client';

export const SESSION_QUERY_KEY = ['session'];

/**
 * The app's query cache. A 401 on any call means the session ended (expired, revoked, signed out in
 * another tab): the session is forgotten, so the app shows the sign-in screen.
 */
export function createQueryClient(): QueryClient {
  const onError = (error: unknown) => {
    if (error instanceof ApiProblem && error.status === 401) queryClient.setQueryData(SESSION_QUERY_KEY, null);
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      // Registry data changes under other users' hands: keep it briefly, refetch on focus; retry
      // network failures only, never an answer of the API.
      queries: { staleTime: 15_000, retry: (count, error) => count < 2 && !(error instanceof ApiProblem) },
    },
  });
  return queryClient;
}
