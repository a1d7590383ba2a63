import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { Area, SearchResult, VocabularyCode } from './types';

/** The active codes of a vocabulary (gender, group-type, membership-role…), cached for the session. */
export function useVocabulary(code: string) {
  return useQuery({
    queryKey: ['vocabulary', code],
    staleTime: 30 * 60_000,
    queryFn: async () => {
      const vocabulary = await unwrap<{ codes: VocabularyCode[] }>(api.GET('/api/v2/Vocabulary/{code}', { params: { path: { code }, query: { _count: 200, active: true } } }));
      return vocabulary.codes.filter((item) => item.isActive);
    },
  });
}

/** The label of a vocabulary code, or the code itself until the vocabulary is loaded. */
export function useCodeLabel(vocabulary: string) {
  const { data } = useVocabulary(vocabulary);
  return (code: string | null | undefined) => (code ? data?.find((item) => item.code === code)?.label ?? code : '—');
}

export function useArea(code: string | null | undefined) {
  return useQuery({
    queryKey: ['area', code],
    enabled: Boolean(code),
    staleTime: 30 * 60_000,
    queryFn: () => unwrap<Area & { ancestors?: Area[] }>(api.GET('/api/v2/Area/{code}', { params: { path: { code: code! } } })),
  });
}

/** Direct children of an area; without a parent, the roots of the tree. */
export function useAreaChildren(parent: string | undefined, enabled = true) {
  return useQuery({
    queryKey: ['area-children', parent ?? null],
    enabled,
    staleTime: 30 * 60_000,
    queryFn: async () => {
      if (parent) return (await unwrap<SearchResult<Area>>(api.GET('/api/v2/Area', { params: { query: { parent, isActive: true, _count: 500 } } }))).items;
      const all = await unwrap<SearchResult<Area>>(api.GET('/api/v2/Area', { params: { query: { isActive: true, _count: 500 } } }));
      return all.items.filter((area) => area.parentCode === null);
    },
  });
}

export function useAreaSearch(name: string) {
  return useQuery({
    queryKey: ['area-search', name],
    enabled: name.trim().length >= 2,
    staleTime: 5 * 60_000,
    queryFn: async () => (await unwrap<SearchResult<Area>>(api.GET('/api/v2/Area', { params: { query: { name: name.trim(), isActive: true, _count: 20 } } }))).items,
  });
}
