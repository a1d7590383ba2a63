import canonicalizeModule from 'canonicalize';

// A CommonJS module whose typings declare an ES default export: callable at run time either way.
const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ?? canonicalizeModule) as (input: unknown) => string | undefined;

/**
 * RFC 8785 (JCS) canonical JSON of what a DCI signature covers: `{"header":…,"message":…}` with
 * the message left out when the envelope has none. Both signature strategies sign these bytes.
 */
export function signedContentOf(content: { header: unknown; message?: unknown }): Buffer {
  const value = content.message === undefined ? { header: content.header } : { header: content.header, message: content.message };
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('The envelope cannot be canonicalised');
  return Buffer.from(text, 'utf8');
}

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('The value cannot be canonicalised');
  return text;
}
