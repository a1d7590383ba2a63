import crypto from 'node:crypto';
import { iso31661 } from 'iso-3166';
import { iso6393 } from 'iso-639-3';
import { areaKind, civilStatus, disabilityType, gender, groupType, idType, membershipRole, relationship } from './system-vocabularies.data.js';

export type CodeProperties = Record<string, string | number | boolean>;

export interface SystemCode {
  code: string;
  label: string;
  properties?: CodeProperties;
}

export interface SystemVocabulary {
  code: string;
  namespaceUri: string;
  name: string;
  description: string;
  codes: SystemCode[];
}

export const ID_TYPE_VOCABULARY = 'id-type';

const country: SystemVocabulary = {
  code: 'country',
  namespaceUri: 'urn:iso:std:iso:3166-1',
  name: 'Country',
  description: 'Countries, ISO 3166-1 alpha-2 codes (alpha-3 and numeric in properties).',
  codes: iso31661.map((entry) => ({
    code: entry.alpha2,
    label: entry.name,
    properties: { alpha3: entry.alpha3, numeric: entry.numeric },
  })),
};

const language: SystemVocabulary = {
  code: 'language',
  namespaceUri: 'urn:iso:std:iso:639-3',
  name: 'Language',
  description: 'Languages, ISO 639-3 codes (ISO 639-1 code, type and scope in properties).',
  codes: iso6393.map((entry) => ({
    code: entry.iso6393,
    label: entry.name,
    properties: { type: entry.type, scope: entry.scope, ...(entry.iso6391 ? { iso6391: entry.iso6391 } : {}) },
  })),
};

/** Every vocabulary shipped with this build, installed at start-up. */
export const systemVocabularies: readonly SystemVocabulary[] = [
  gender, country, language, relationship, membershipRole, groupType, civilStatus, areaKind, disabilityType, idType,
];

/** A short digest of a vocabulary's shipped content: start-up skips vocabularies whose digest is unchanged. */
export function contentHashOf(vocabulary: SystemVocabulary): string {
  return crypto.createHash('sha256').update(JSON.stringify(vocabulary)).digest('hex').slice(0, 16);
}

// The digest rides at the end of the stored description (the table has no column for it).
const STAMP = /\n\[content ([0-9a-f]{16})\]$/;

export function stampedDescription(description: string, hash: string): string {
  return `${description}\n[content ${hash}]`;
}

export function readStamp(description: string | null): { description: string | null; hash: string | undefined } {
  const match = description ? STAMP.exec(description) : null;
  if (!description || !match) return { description, hash: undefined };
  return { description: description.slice(0, match.index), hash: match[1] };
}
