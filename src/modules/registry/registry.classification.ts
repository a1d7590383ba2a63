import { renderClassificationMarkdown, type ClassificationTable } from '../../platform/privacy/classification.js';

const BOTH = ['Individual', 'Group'] as const;
const INDIVIDUAL = ['Individual'] as const;
const GROUP = ['Group'] as const;

/**
 * THE classification of every field of the registry's resources (the Individual and Group views).
 * Masking (registry.disclosure.ts), encryption at rest (registry.encryption.ts: the restricted
 * fields) and docs/DATA-CLASSIFICATION.md (`npm run docs:classification`) all follow it; a test
 * checks that every field of a view is here and that the document is up to date.
 */
export const registryClassification = {
  resourceType: { level: 'public', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.kind'], description: 'Individual or Group.' },
  id: { level: 'public', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.uuid'], description: 'The record\'s UUID: random, it says nothing about the person.' },
  version: { level: 'public', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.version'], description: 'Optimistic-concurrency version (ETag).' },
  createdAt: { level: 'public', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.created_at'], description: 'When the record was created.' },
  updatedAt: { level: 'public', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.updated_at'], description: 'When the record last changed.' },
  isActive: { level: 'internal', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.is_active'], description: 'Whether the record is active (records are deactivated, never deleted).' },
  deactivation: { level: 'internal', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.deactivation_reason', 'registrants.deactivated_at'], description: 'Reason and date of a deactivation.' },
  area: { level: 'internal', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.area_id'], auditKeys: ['area', 'areaId'], description: 'The administrative area (code); also what area-limited access is decided on.' },
  name: {
    level: 'internal', appliesTo: BOTH, masking: 'none', atRest: 'plain',
    storage: ['registrants.given_name', 'registrants.family_name', 'registrants.additional_name', 'registrants.display_name', 'registrants.name_search'],
    auditKeys: ['name', 'givenName', 'familyName', 'additionalName', 'displayName'],
    description: 'Personal data, but needed by every reader to find and recognise people (name search), so not masked. Never written to logs.',
  },
  gender: { level: 'internal', appliesTo: INDIVIDUAL, masking: 'none', atRest: 'plain', storage: ['registrants.gender'], description: '`gender` vocabulary code.' },
  memberships: { level: 'internal', appliesTo: INDIVIDUAL, masking: 'none', atRest: 'plain', storage: ['memberships'], description: 'The groups the individual belongs to, with roles (group membership).' },
  relationships: { level: 'internal', appliesTo: INDIVIDUAL, masking: 'none', atRest: 'plain', storage: ['relationships'], description: 'Relationships to other individuals, by UUID.' },
  groupType: { level: 'internal', appliesTo: GROUP, masking: 'none', atRest: 'plain', storage: ['registrants.group_type'], description: '`group-type` vocabulary code.' },
  size: { level: 'internal', appliesTo: GROUP, masking: 'none', atRest: 'plain', storage: ['memberships'], description: 'Number of active members.' },
  head: { level: 'internal', appliesTo: GROUP, masking: 'none', atRest: 'plain', storage: ['memberships'], description: 'UUID of the household head.' },
  members: { level: 'internal', appliesTo: GROUP, masking: 'none', atRest: 'plain', storage: ['memberships'], description: 'Active members, by UUID, with roles (group membership).' },
  sourceSystem: { level: 'internal', appliesTo: BOTH, masking: 'none', atRest: 'plain', storage: ['registrants.source_system'], description: 'The system the record came from.' },
  birthDate: { level: 'confidential', appliesTo: INDIVIDUAL, masking: 'year', atRest: 'plain', storage: ['registrants.birth_date'], description: 'Date of birth; the year still allows age-based targeting.' },
  civilStatus: { level: 'confidential', appliesTo: INDIVIDUAL, masking: 'null', atRest: 'plain', storage: ['registrants.civil_status'], description: '`civil-status` vocabulary code.' },
  disability: {
    level: 'confidential', appliesTo: INDIVIDUAL, masking: 'null', atRest: 'plain', storage: ['registrants.has_disability', 'registrants.disability_types'],
    auditKeys: ['disability', 'hasDisability', 'disabilityTypes'], description: 'Health data (GDPR art. 9): whether and which disabilities.',
  },
  income: {
    level: 'confidential', appliesTo: BOTH, masking: 'null', atRest: 'plain', storage: ['registrants.monthly_income', 'registrants.income_currency'],
    auditKeys: ['income', 'monthlyIncome', 'incomeCurrency'], description: 'Monthly income and currency.',
  },
  email: { level: 'confidential', appliesTo: BOTH, masking: 'null', atRest: 'plain', storage: ['registrants.email'], description: 'Email address.' },
  custom: { level: 'confidential', appliesTo: BOTH, masking: 'empty', atRest: 'plain', storage: ['registrants.custom'], description: 'Deployment-defined fields: their content is not known in advance, so they are treated as confidential.' },
  identifiers: {
    level: 'restricted', appliesTo: BOTH, masking: 'identifier', atRest: 'encrypted + blind index', storage: ['identifiers.value_encrypted', 'identifiers.value_index'],
    description: 'Identifier values (national id, household id…): type, system and validity are shown, the value masked. Found by exact match through the blind index.',
  },
  phones: {
    level: 'restricted', appliesTo: BOTH, masking: 'phone', atRest: 'encrypted + blind index', storage: ['registrants.phones_encrypted', 'registrants.phone_indexes'],
    description: 'Phone numbers (E.164). Found by exact match (`phone` search) through blind indexes.',
  },
  addresses: {
    level: 'restricted', appliesTo: BOTH, masking: 'address', atRest: 'encrypted', storage: ['registrants.addresses_encrypted'],
    description: 'Exact addresses. Not searchable (search by `area`).',
  },
} as const satisfies ClassificationTable;

export type RegistryField = keyof typeof registryClassification;

const PREAMBLE = `
# Data classification

<!-- Generated from src/modules/registry/registry.classification.ts by \`npm run docs:classification\`; do not edit by hand (a test checks it is up to date). -->

Every field of personal data the registry holds is declared with a classification in one table in
code, from which the masking of API responses and exports, the encryption at rest and this document
are derived.
`;

const NOTES = `
## What follows from a classification

- **Masking.** Actors without the \`pii:reveal\` permission (e.g. the registry-viewer and auditor
  roles, or API clients not granted it) get confidential and restricted values masked, as in the
  table above, in reads, searches, write responses, change history and CSV exports. Each masked
  record lists the masked fields: \`"masked": ["identifiers", "phones", …]\`. The fields are masked
  whatever their value, so a masked \`null\` does not tell whether there was a value.
- **Reveals are audited.** A response (or export) that shows unmasked restricted values records an
  audit entry \`reveal\` naming the record and the fields, never the values; an export records one
  entry for the whole file.
- **Encryption at rest.** Restricted values are stored with AES-256-GCM: a random 12-byte nonce per
  value, the table, column and record bound in as associated data, the key version in the ciphertext
  (\`v1:<key version>:<nonce>:<ciphertext+tag>\`). Data keys are kept in the database wrapped by a
  key-encryption key (\`ENCRYPTION_KEK\`/\`ENCRYPTION_KEK_FILE\`, or a KMS through the \`KeyProvider\`
  interface). \`commonweal keys rotate-data-key\`, \`keys reencrypt\` and \`keys rotate-kek\` rotate them.
- **Exact search on encrypted fields.** Identifier values (with their type) and phone numbers (E.164)
  get HMAC-SHA256 blind indexes under keys derived with HKDF from a separate index key: lookups by
  identifier, the \`phone\` search, bulk matching and the uniqueness of live identifiers use them.
  \`keys rotate-index-key\` replaces the index key without downtime (lookups try old and new
  indexes while a background job recomputes them, then the old key is retired).
- **Audit log.** Restricted values never enter the audit log in clear: identifiers and phone numbers
  appear as \`hmac:\` and the first 16 characters of their blind index, addresses with masked lines and
  a keyed digest. (Entries written before encryption at rest was introduced are kept unchanged: the
  log is append-only and hash-chained.)
- **Logs.** No personal data is written to application logs: request logs show the route pattern
  and the names of query parameters, not their values; refused requests are logged by error code.
- **Bank details**, when payments come, are restricted.
`;

/** docs/DATA-CLASSIFICATION.md. */
export function renderDataClassification(): string {
  return renderClassificationMarkdown(
    [{ title: 'Registry: Individual and Group', intro: 'The fields of `/api/v2/Individual` and `/api/v2/Group` (and of their CSV exports).', table: registryClassification }],
    PREAMBLE,
    NOTES,
  );
}
