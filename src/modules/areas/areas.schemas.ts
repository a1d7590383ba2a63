import { Type } from 'typebox';
import { AREA_CODE_PATTERN } from './areas.service.js';

// One schema per contract: these validate requests, type the handlers and document the API.

const codeOf = (description: string) => Type.String({ pattern: AREA_CODE_PATTERN.source, description });
const AreaCode = codeOf('Area code (P-code), the area\'s identifier');
const AreaKind = codeOf('An `area-kind` code: country, region, province, district, municipality, village');
const AreaName = Type.String({ minLength: 1, maxLength: 200, description: 'Name of the area' });
const ParentCode = Type.Union([AreaCode, Type.Null()], { description: 'Code of the parent area; null (or absent) for a root such as a country' });

export const AreaCodeParams = Type.Object({ code: AreaCode }, { additionalProperties: false });

export const AreaInput = Type.Object({
  code: AreaCode,
  name: AreaName,
  kind: AreaKind,
  parentCode: Type.Optional(ParentCode),
}, { additionalProperties: false });

export const AreaPatch = Type.Object({
  name: Type.Optional(AreaName),
  kind: Type.Optional(AreaKind),
  parentCode: Type.Optional(ParentCode),
}, { additionalProperties: false, description: 'JSON merge patch (RFC 7396); `parentCode` moves the area with its whole subtree, null makes it a root' });

export const DeactivationInput = Type.Object({
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why the area is no longer in use (kept in the audit log)' }),
}, { additionalProperties: false });

export const AreaSearchQuery = Type.Object({
  parent: Type.Optional(codeOf('Only the direct children of this area')),
  ancestor: Type.Optional(codeOf('Every area below this one, at any depth')),
  kind: Type.Optional(AreaKind),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Name contains this text (case-insensitive)' })),
  code: Type.Optional(AreaCode),
  isActive: Type.Optional(Type.Boolean({ description: 'Only active (true) or deactivated (false) areas' })),
  _count: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size' }),
  // No maxLength here: every bad cursor, too long included, is refused alike (400 unknown_parameter).
  _cursor: Type.Optional(Type.String({ description: 'Where the page starts: follow `links.next` rather than building it' })),
}, { additionalProperties: false });

export const AreaView = Type.Object({
  code: AreaCode,
  name: Type.String(),
  kind: Type.String(),
  parentCode: Type.Union([Type.String(), Type.Null()]),
  depth: Type.Integer({ description: 'Administrative level: 0 for a root (country)' }),
  isActive: Type.Boolean(),
  version: Type.Integer({ description: 'Increases with every change; the ETag carries it' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const AreaDetail = Type.Object({
  ...AreaView.properties,
  ancestors: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), kind: Type.String() }), {
    description: 'From the root down to the parent (breadcrumb)',
  }),
});

/** The paging shape of every search in the API (see `SearchPage` of the registry search). */
export const AreaPage = Type.Object({
  resourceType: Type.Literal('SearchResult'),
  count: Type.Integer({ description: 'Areas on this page' }),
  items: Type.Array(AreaView),
  links: Type.Object({
    self: Type.String({ format: 'uri', description: 'This page' }),
    next: Type.Optional(Type.String({ format: 'uri', description: 'The following page, with the same filters; absent on the last page' })),
  }),
});
