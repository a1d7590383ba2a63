// Data classification: the four levels every field of personal data is declared with, the ways a
// value is masked for someone not entitled to see it, and the markdown a classification table
// renders to (docs/DATA-CLASSIFICATION.md, `npm run docs:classification`). The tables themselves
// live with the data they describe (e.g. src/modules/registry/registry.classification.ts).

export type Classification = 'public' | 'internal' | 'confidential' | 'restricted';

export const CLASSIFICATIONS: Record<Classification, string> = {
  public: 'Not personal data, or nothing about a person: record ids, resource types, versions, timestamps. Shown to any reader.',
  internal: 'Personal or operational data every authorised registry reader needs to do their work (to find and recognise people, to place them in areas and households). Shown to any reader of the record; never logged.',
  confidential: 'Sensitive personal data (GDPR art. 9 categories, financial or civil details). Masked in API responses and exports for actors without `pii:reveal`; never logged.',
  restricted: 'Data that identifies a person directly or lets someone contact or find them. Encrypted at rest (AES-256-GCM), searchable only through blind indexes, masked without `pii:reveal`, every reveal audited, never stored in clear in the audit log, never logged.',
};

/** The permission that shows confidential and restricted values unmasked. */
export const REVEAL_PERMISSION = 'pii:reveal';

/** How a value is shown to an actor without the reveal permission. */
export type Masking =
  | 'none'
  /** `AB1234567` → `AB****567`: the first two and last three characters of identifiers. */
  | 'identifier'
  /** `+639171234567` → `+63917***4567`: country and operator prefix, last four digits. */
  | 'phone'
  /** `1990-04-12` → `1990`. */
  | 'year'
  /** Address lines and postal code → `***`; city, district and country kept. */
  | 'address'
  /** Replaced by null. */
  | 'null'
  /** Replaced by an empty object. */
  | 'empty';

export type AtRest = 'plain' | 'encrypted' | 'encrypted + blind index';

export interface FieldClassification {
  level: Classification;
  /** Which resources have the field. */
  appliesTo: readonly string[];
  masking: Masking;
  atRest: AtRest;
  /** Where it is stored (table.column). */
  storage: readonly string[];
  /** Other names the field has in audit snapshots (e.g. the bulk writer's column names). */
  auditKeys?: readonly string[];
  description: string;
}

export type ClassificationTable = Readonly<Record<string, FieldClassification>>;

export const isMaskedLevel = (level: Classification): boolean => level === 'confidential' || level === 'restricted';

/** `AB1234567` → `AB****567`; shorter values keep less, four characters or fewer keep nothing. */
export function maskIdentifierValue(value: string): string {
  const [head, tail] = value.length >= 8 ? [2, 3] : value.length >= 5 ? [1, 1] : [0, 0];
  return `${value.slice(0, head)}${'*'.repeat(value.length - head - tail)}${tail > 0 ? value.slice(-tail) : ''}`;
}

/** `+639171234567` → `+63917***4567` (E.164: country code and operator prefix, the last four digits). */
export function maskPhoneNumber(value: string): string {
  if (value.length >= 11) return `${value.slice(0, 6)}***${value.slice(-4)}`;
  if (value.length >= 6) return `${value.slice(0, 3)}***${value.slice(-2)}`;
  return '***';
}

export function maskAddress<A extends { line?: string[]; postalCode?: string }>(address: A): A {
  return {
    ...address,
    ...(address.line ? { line: address.line.map(() => '***') } : {}),
    ...(address.postalCode ? { postalCode: '***' } : {}),
  };
}

/** `value` as shown with `masking` (for the shapes the registry uses; anything else becomes null). */
export function applyMasking(masking: Masking, value: unknown): unknown {
  if (value === null || value === undefined) return masking === 'empty' ? {} : value ?? null;
  switch (masking) {
    case 'none': return value;
    case 'null': return null;
    case 'empty': return {};
    case 'year': return typeof value === 'string' ? value.slice(0, 4) : null;
    case 'identifier':
      return Array.isArray(value)
        ? value.map((item: unknown) => (isRecord(item) && typeof item.value === 'string' ? { ...item, value: maskIdentifierValue(item.value) } : '***'))
        : typeof value === 'string' ? maskIdentifierValue(value) : null;
    case 'phone':
      return Array.isArray(value)
        ? value.map((item: unknown) => (isRecord(item) && typeof item.value === 'string' ? { ...item, value: maskPhoneNumber(item.value) } : '***'))
        : typeof value === 'string' ? maskPhoneNumber(value) : null;
    case 'address':
      return Array.isArray(value) ? value.map((item: unknown) => (isRecord(item) ? maskAddress(item as { line?: string[]; postalCode?: string }) : '***')) : null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MASKING_TEXT: Record<Masking, string> = {
  none: 'shown',
  identifier: 'partly: `AB****567`',
  phone: 'partly: `+63917***4567`',
  year: 'year only: `1990`',
  address: 'lines and postal code `***`',
  null: '`null`',
  empty: '`{}`',
};

/** The markdown of a classification document: the levels, then one table per classification table. */
export function renderClassificationMarkdown(sections: Array<{ title: string; intro: string; table: ClassificationTable }>, preamble: string, notes: string): string {
  const lines = [preamble.trim(), '', '## Levels', '', '| Level | Meaning |', '| --- | --- |'];
  for (const [level, meaning] of Object.entries(CLASSIFICATIONS)) lines.push(`| ${level} | ${meaning} |`);
  for (const section of sections) {
    lines.push('', `## ${section.title}`, '', section.intro.trim(), '');
    lines.push('| Field | Resources | Level | Without `pii:reveal` | At rest | Stored in | Description |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const [field, entry] of Object.entries(section.table)) {
      lines.push(`| \`${field}\` | ${entry.appliesTo.join(', ')} | ${entry.level} | ${MASKING_TEXT[entry.masking]} | ${entry.atRest} | ${entry.storage.map((column) => `\`${column}\``).join(', ')} | ${entry.description} |`);
    }
  }
  lines.push('', notes.trim(), '');
  return lines.join('\n');
}
