/**
 * Paging links, the same for every list in the API: the base URL, every parameter the client sent
 * (repeated ones repeated), and `_cursor` for the page wanted (none for the first page).
 */
export function pageLink(base: string, query: Record<string, unknown>, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (name === '_cursor' || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  if (cursor) params.append('_cursor', cursor);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

/** The query parameters exactly as sent (before validation adds defaults), repeated ones as arrays. */
export function queryAsSent(requestUrl: string): Record<string, string | string[]> {
  const start = requestUrl.indexOf('?');
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(start === -1 ? '' : requestUrl.slice(start + 1))) {
    const existing = query[name];
    query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}
