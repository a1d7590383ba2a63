import type { VocabularyCodeRow, VocabularyWithCount } from './vocabularies.repository.js';
import { readStamp } from './system-vocabularies.js';

// What callers see: external identifiers (codes) only, never database ids; timestamps as ISO text.

export interface VocabularyView {
  code: string;
  namespaceUri: string;
  name: string;
  description: string | null;
  isSystem: boolean;
  version: number;
  codeCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface VocabularyCodeView {
  vocabulary: string;
  code: string;
  label: string;
  properties: Record<string, unknown>;
  isLocal: boolean;
  isActive: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface IdType {
  code: string;
  /** Namespace URI of the identifiers (e.g. `urn:commonweal:id:national-id`). */
  system: string;
  /** Regular expression a value must match, when the type has one. */
  pattern?: string;
  label: string;
  isActive: boolean;
}

export function toIdType(row: VocabularyCodeRow): IdType[] {
  const { system, pattern } = row.properties;
  if (typeof system !== 'string') return []; // not usable as an identifier namespace
  return [{ code: row.code, system, ...(typeof pattern === 'string' ? { pattern } : {}), label: row.label, isActive: row.isActive }];
}

export function toVocabularyView(row: VocabularyWithCount): VocabularyView {
  return {
    code: row.code,
    namespaceUri: row.namespaceUri,
    name: row.name,
    description: row.isSystem ? readStamp(row.description).description : row.description,
    isSystem: row.isSystem,
    version: row.version,
    codeCount: row.codeCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toCodeView(vocabulary: string, row: VocabularyCodeRow): VocabularyCodeView {
  return {
    vocabulary,
    code: row.code,
    label: row.label,
    properties: row.properties,
    isLocal: row.isLocal,
    isActive: row.isActive,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
