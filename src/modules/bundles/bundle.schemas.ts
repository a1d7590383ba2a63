import { Type, type Static } from 'typebox';

export const MAX_BUNDLE_ENTRIES = 500;

export const BundleEntry = Type.Object({
  fullUrl: Type.Optional(Type.String({ pattern: '^urn:uuid:[0-9a-fA-F-]{36}$', description: 'Placeholder that later entries can use to refer to what this entry creates' })),
  request: Type.Object({
    method: Type.Union([Type.Literal('POST'), Type.Literal('PATCH')]),
    url: Type.String({ minLength: 1, maxLength: 500, description: 'Relative to /api/v2, e.g. "Individual", "Group/{id}/members"' }),
    ifMatch: Type.Optional(Type.String({ maxLength: 50, description: 'ETag, required for PATCH' })),
  }, { additionalProperties: false }),
  resource: Type.Optional(Type.Unknown({ description: 'The request body of the operation' })),
}, { additionalProperties: false });
export type BundleEntry = Static<typeof BundleEntry>;

export const Bundle = Type.Object({
  resourceType: Type.Optional(Type.Literal('Bundle')),
  type: Type.Union([Type.Literal('transaction'), Type.Literal('batch')], { description: 'transaction: all or nothing; batch: each entry on its own' }),
  entries: Type.Array(BundleEntry, { minItems: 1, maxItems: MAX_BUNDLE_ENTRIES }),
}, { additionalProperties: false });
export type Bundle = Static<typeof Bundle>;
