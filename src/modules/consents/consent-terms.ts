import type { FieldProblem } from '../../platform/errors.js';

// The closed lists of DPV terms a consent may use (https://w3id.org/dpv). Stored and shown as
// CURIEs (`dpv:…`, `dpv-pd:…`); the full IRIs and the `pd:` prefix are accepted on input.

const NAMESPACES: Record<string, string> = {
  'dpv:': 'https://w3id.org/dpv#',
  'dpv-pd:': 'https://w3id.org/dpv/pd#',
};
const INPUT_ALIASES: Record<string, string> = { 'pd:': 'dpv-pd:' };

/** DPV purposes (`dpv:Purpose` subclasses) a registrant can consent to. */
export const PURPOSES: Record<string, string> = {
  'dpv:ServiceProvision': 'Service provision',
  'dpv:ServiceOptimisation': 'Service optimisation',
  'dpv:IdentityVerification': 'Identity verification',
  'dpv:FraudPreventionAndDetection': 'Fraud prevention and detection',
  'dpv:EnforceSecurity': 'Enforce security',
  'dpv:CommunicationManagement': 'Communication management',
  'dpv:ResearchAndDevelopment': 'Research and development',
  'dpv:LegalCompliance': 'Legal compliance',
};

/** What a client processes for when its token declares no purpose (claim `purpose`). */
export const DEFAULT_PURPOSE = 'dpv:ServiceProvision';

/** DPV processing operations (`dpv:Processing` subclasses). Recorded as terms; see filterByConsent. */
export const PROCESSING_OPERATIONS: Record<string, string> = {
  'dpv:Collect': 'Collect',
  'dpv:Store': 'Store',
  'dpv:Use': 'Use',
  'dpv:Access': 'Access',
  'dpv:Consult': 'Consult',
  'dpv:Analyse': 'Analyse',
  'dpv:Match': 'Match',
  'dpv:Combine': 'Combine',
  'dpv:Share': 'Share',
  'dpv:Disclose': 'Disclose',
  'dpv:Transfer': 'Transfer',
  'dpv:Transmit': 'Transmit',
  'dpv:Erase': 'Erase',
};

/**
 * DPV-PD personal data categories and the registrant fields (of the Individual and Group views)
 * each one releases. Broader and narrower terms may release the same fields.
 */
export const DATA_CATEGORIES: Record<string, { label: string; fields: readonly string[] }> = {
  'dpv-pd:Name': { label: 'Name', fields: ['name'] },
  'dpv-pd:Age': { label: 'Age', fields: ['birthDate'] },
  'dpv-pd:BirthDate': { label: 'Birth date', fields: ['birthDate'] },
  'dpv-pd:Gender': { label: 'Gender', fields: ['gender'] },
  'dpv-pd:Contact': { label: 'Contact', fields: ['phones', 'email'] },
  'dpv-pd:TelephoneNumber': { label: 'Telephone number', fields: ['phones'] },
  'dpv-pd:EmailAddress': { label: 'Email address', fields: ['email'] },
  'dpv-pd:Address': { label: 'Address', fields: ['addresses', 'area'] },
  'dpv-pd:Location': { label: 'Location', fields: ['addresses', 'area'] },
  'dpv-pd:Identifier': { label: 'Identifier', fields: ['identifiers'] },
  'dpv-pd:HealthRecord': { label: 'Health record', fields: ['disability'] },
  'dpv-pd:Disability': { label: 'Disability', fields: ['disability'] },
  'dpv-pd:Income': { label: 'Income', fields: ['income'] },
  'dpv-pd:Financial': { label: 'Financial', fields: ['income'] },
  'dpv-pd:FamilyStructure': { label: 'Family structure', fields: ['memberships', 'relationships', 'groupType', 'size', 'head', 'members'] },
  'dpv-pd:CivilStatus': { label: 'Civil status', fields: ['civilStatus'] },
  'dpv-pd:MaritalStatus': { label: 'Marital status', fields: ['civilStatus'] },
};

/**
 * Every field some category can release. Anything else of a view (custom fields, source system,
 * deactivation, record metadata) is never released to a client processing under consent.
 */
export const RELEASABLE_FIELDS: ReadonlySet<string> = new Set(Object.values(DATA_CATEGORIES).flatMap((category) => category.fields));

/** `https://w3id.org/dpv#Use` or `pd:Name` → `dpv:Use`, `dpv-pd:Name`; anything else unchanged. */
export function toCurie(term: string): string {
  const trimmed = term.trim();
  for (const [prefix, iri] of Object.entries(NAMESPACES)) {
    if (trimmed.startsWith(iri)) return `${prefix}${trimmed.slice(iri.length)}`;
  }
  for (const [alias, prefix] of Object.entries(INPUT_ALIASES)) {
    if (trimmed.startsWith(alias)) return `${prefix}${trimmed.slice(alias.length)}`;
  }
  return trimmed;
}

/** Normalises a list of terms to CURIEs, de-duplicated; unknown ones become field problems. */
export function normaliseTerms(terms: readonly string[], known: Record<string, unknown>, path: string, problems: FieldProblem[]): string[] {
  const normalised: string[] = [];
  for (const [index, term] of terms.entries()) {
    const curie = toCurie(term);
    if (!Object.hasOwn(known, curie)) problems.push({ path: `${path}/${index}`, message: `"${term}" is not one of ${Object.keys(known).join(', ')}` });
    else if (!normalised.includes(curie)) normalised.push(curie);
  }
  return normalised;
}
