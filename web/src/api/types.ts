// Shapes of the registry's responses, as src/modules/registry/registry.views.ts builds them (those
// routes declare no response schema, so the generated schema.d.ts types their bodies as unknown).

export interface Identifier {
  type: string;
  system: string;
  value: string;
  isValid: boolean;
  invalidReason?: string;
}

export interface Membership {
  id: string;
  group?: string;
  individual?: string;
  role: string;
  startDate: string;
  endDate: string | null;
  endReason: string | null;
  isActive: boolean;
}

export interface Relationship {
  id: string;
  type: string;
  target: string;
  startDate: string | null;
  endDate: string | null;
}

export interface Address {
  use?: string;
  line?: string[];
  city?: string;
  district?: string;
  postalCode?: string;
  country?: string;
}

interface RegistrantBase {
  id: string;
  version: number;
  isActive: boolean;
  deactivation: { reason: string | null; date: string | null } | null;
  area: string | null;
  addresses: Address[];
  phones: Array<{ value: string; use?: string }>;
  email: string | null;
  income: { monthly: number; currency: string } | null;
  identifiers: Identifier[];
  createdAt: string;
  updatedAt: string;
}

export interface Individual extends RegistrantBase {
  resourceType: 'Individual';
  name: { given: string | null; family: string | null; additional: string | null; display: string };
  birthDate: string | null;
  gender: string | null;
  civilStatus: string | null;
  disability: { hasDisability: boolean; types: string[] } | null;
  memberships?: Membership[];
  relationships?: Relationship[];
}

export interface Group extends RegistrantBase {
  resourceType: 'Group';
  groupType: string;
  name: string;
  size: number;
  head: string | null;
}

export interface SearchResult<T> {
  resourceType: 'SearchResult';
  count: number;
  total?: number;
  items: T[];
  links: { self: string; next?: string; previous?: string; first?: string };
}

export interface Area {
  code: string;
  name: string;
  kind: string;
  parentCode: string | null;
  depth: number;
  isActive: boolean;
}

export interface VocabularyCode {
  code: string;
  label: string;
  isActive: boolean;
}

export interface HistoryEntry {
  occurredAt: string;
  actor: { type: string; id: string };
  action: string;
  entityType: string;
  entityId: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  requestId?: string;
}

export interface Job {
  id: string;
  type: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total: number | null };
  result: { rows: number; created: number; updated: number; rejected: number; householdsCreated?: number; membershipsCreated?: number } | null;
  error: string | { message?: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface BundleEntryResponse {
  status: string;
  location?: string;
  resource?: { id?: string } & Record<string, unknown>;
}

export interface Program {
  resourceType: 'Program';
  id: string;
  code: string;
  name: string;
  description: string | null;
  targetType: 'individual' | 'group';
  eligibilityRule: string;
  cashFormula: string | null;
  currency: string;
  state: string;
  funds: { deposited: string; committed: string; balance: string };
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ProgramFigures {
  program: string;
  currency: string;
  memberships: Record<string, number>;
  enrolledByArea: Array<{ area: string | null; count: number }>;
  cycles: Array<{ id: string; sequence: number; name: string; state: string; beneficiaries: number; planned: string; approved: string; paid: string; failed: string }>;
  funds: { deposited: string; committed: string; balance: string };
}
