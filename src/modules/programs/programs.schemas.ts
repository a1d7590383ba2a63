import { Type, type Static } from 'typebox';

// Request contracts of the programs API (programs, enrolment, cycles, payments, service points).

const Text = (description: string, maxLength = 200) => Type.String({ minLength: 1, maxLength, description });
const Code = (description: string) => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description });
const Cel = (description: string) => Type.String({ minLength: 1, maxLength: 4000, description });
const IsoDate = (description: string) => Type.String({ format: 'date', description });

export const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 100, description: 'UUID or code' }) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
export const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const PageQuery = {
  _count: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Page size' }),
  _cursor: Type.Optional(Type.String({ maxLength: 200, description: 'From links.next' })),
};

export const DedupInput = Type.Object({
  idTypes: Type.Optional(Type.Array(Code('An id-type code'), { maxItems: 20, description: 'Same value of one of these id types' })),
  phone: Type.Optional(Type.Boolean({ description: 'Same normalised phone number' })),
  nameBirthDate: Type.Optional(Type.Boolean({ description: 'Same birth date and a similar name (accent- and case-insensitive)' })),
  ibr: Type.Optional(Type.Boolean({ description: 'Already enrolled elsewhere, per the IBR (DCI) client' })),
}, { additionalProperties: false });

export const InKindInput = Type.Object({
  product: Code('Product code'),
  quantityFormula: Cel('CEL int expression: the quantity per beneficiary'),
  servicePoint: Code('Service point code to collect from'),
}, { additionalProperties: false });

const programFields = {
  name: Text('Name'),
  description: Type.Optional(Text('What the program is for', 2000)),
  eligibilityRule: Cel('CEL condition over the target (individual or group) selecting who is eligible'),
  cashFormula: Type.Optional(Cel('CEL int or double expression: the cash amount per beneficiary and cycle (rounded to the currency)')),
  cashCondition: Type.Optional(Cel('CEL condition: who of the enrolled receives cash this cycle (default all)')),
  inKind: Type.Optional(Type.Array(InKindInput, { maxItems: 20 })),
  dedup: Type.Optional(DedupInput),
  managers: Type.Optional(Type.Array(Text('Username of a program manager', 100), { maxItems: 50 })),
};

export const ProgramInput = Type.Object({
  code: Code('Unique program code'),
  targetType: Type.Union([Type.Literal('individual'), Type.Literal('group')]),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  ...programFields,
}, { additionalProperties: false });
export type ProgramInput = Static<typeof ProgramInput>;

export const ProgramPatch = Type.Object({
  name: Type.Optional(programFields.name),
  description: Type.Optional(Type.Union([Text('', 2000), Type.Null()])),
  eligibilityRule: Type.Optional(programFields.eligibilityRule),
  cashFormula: Type.Optional(Type.Union([Cel(''), Type.Null()])),
  cashCondition: Type.Optional(Type.Union([Cel(''), Type.Null()])),
  inKind: programFields.inKind,
  dedup: programFields.dedup,
  managers: programFields.managers,
}, { additionalProperties: false });
export type ProgramPatch = Static<typeof ProgramPatch>;

export const ProgramSearchQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 64 })),
  state: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('ended')])),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Name contains (case-insensitive)' })),
  ...PageQuery,
}, { additionalProperties: false });
export type ProgramSearchQuery = Static<typeof ProgramSearchQuery>;

export const ReasonInput = Type.Object({ reason: Text('Why', 1000) }, { additionalProperties: false });
export type ReasonInput = Static<typeof ReasonInput>;

export const FundsInput = Type.Object({
  amount: Type.String({ maxLength: 20, description: 'Decimal amount in the program currency, e.g. "250000.00"' }),
  reference: Text('Where the money comes from (budget line, transfer reference)'),
}, { additionalProperties: false });
export type FundsInput = Static<typeof FundsInput>;

export const EnrolInput = Type.Object({
  at: Type.Optional(Type.String({ format: 'date-time', description: 'Evaluation instant of the rule (default now)' })),
}, { additionalProperties: false });
export type EnrolInput = Static<typeof EnrolInput>;

const membershipStates = ['draft', 'enrolled', 'paused', 'exited', 'not_eligible', 'duplicate'] as const;
export const MembershipSearchQuery = Type.Object({
  program: Type.String({ minLength: 1, maxLength: 100, description: 'Program UUID or code' }),
  state: Type.Optional(Type.Union(membershipStates.map((state) => Type.Literal(state)))),
  ineligible: Type.Optional(Type.Boolean({ description: 'Only those re-verification found no longer eligible' })),
  ...PageQuery,
}, { additionalProperties: false });
export type MembershipSearchQuery = Static<typeof MembershipSearchQuery>;

export const TransitionInput = Type.Object({
  state: Type.Union(membershipStates.map((state) => Type.Literal(state))),
  reason: Text('Why (kept in the history and the audit log)', 1000),
}, { additionalProperties: false });
export type TransitionInput = Static<typeof TransitionInput>;

export const SuspectSearchQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('confirmed'), Type.Literal('cleared')])),
  ...PageQuery,
}, { additionalProperties: false });
export type SuspectSearchQuery = Static<typeof SuspectSearchQuery>;

export const CycleInput = Type.Object({
  name: Type.Optional(Text('Name, default "<program code> cycle <n>"')),
  startDate: IsoDate('First day'),
  endDate: IsoDate('Last day'),
  recurrence: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('monthly'), Type.Literal('bimonthly'), Type.Literal('quarterly'), Type.Literal('semiannual'), Type.Literal('annual')])),
}, { additionalProperties: false });
export type CycleInput = Static<typeof CycleInput>;

export const CycleSearchQuery = Type.Object({ program: Type.String({ minLength: 1, maxLength: 100 }), ...PageQuery }, { additionalProperties: false });
export type CycleSearchQuery = Static<typeof CycleSearchQuery>;

export const EntitlementSearchQuery = Type.Object({
  cycle: Type.String({ format: 'uuid' }),
  kind: Type.Optional(Type.Union([Type.Literal('cash'), Type.Literal('in_kind')])),
  ...PageQuery,
}, { additionalProperties: false });
export type EntitlementSearchQuery = Static<typeof EntitlementSearchQuery>;

export const BatchInput = Type.Object({
  provider: Type.Union([Type.Literal('file'), Type.Literal('manual'), Type.Literal('http')], { description: 'How the batch is paid' }),
}, { additionalProperties: false });
export type BatchInput = Static<typeof BatchInput>;

export const BatchSearchQuery = Type.Object({ cycle: Type.String({ format: 'uuid' }), ...PageQuery }, { additionalProperties: false });
export type BatchSearchQuery = Static<typeof BatchSearchQuery>;

export const PaymentSearchQuery = Type.Object({
  batch: Type.String({ format: 'uuid' }),
  state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('paid'), Type.Literal('failed'), Type.Literal('reversed')])),
  ...PageQuery,
}, { additionalProperties: false });
export type PaymentSearchQuery = Static<typeof PaymentSearchQuery>;

export const ReconcileInput = Type.Object({
  content: Type.String({ minLength: 1, maxLength: 5_000_000, description: 'The provider\'s status file, CSV with header end_to_end_id,status,reference,reason; status paid, failed or reversed' }),
}, { additionalProperties: false });
export type ReconcileInput = Static<typeof ReconcileInput>;

export const MarkPaidInput = Type.Object({ reference: Text('Receipt or voucher reference') }, { additionalProperties: false });
export type MarkPaidInput = Static<typeof MarkPaidInput>;

export const BatchFileParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  jobId: Type.String({ format: 'uuid' }),
  format: Type.Union([Type.Literal('csv'), Type.Literal('pain001')]),
}, { additionalProperties: false });

export const ServicePointInput = Type.Object({
  code: Code('Unique code'),
  name: Text('Name'),
  type: Text('e.g. warehouse, shop, bank-agent, distribution-site', 50),
  area: Type.Optional(Code('Area code')),
}, { additionalProperties: false });
export type ServicePointInput = Static<typeof ServicePointInput>;

export const ServicePointPatch = Type.Object({
  name: Type.Optional(Text('Name')),
  type: Type.Optional(Text('Type', 50)),
  area: Type.Optional(Type.Union([Code('Area code'), Type.Null()])),
  isActive: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type ServicePointPatch = Static<typeof ServicePointPatch>;

export const ServicePointSearchQuery = Type.Object({
  area: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.String({ maxLength: 50 })),
  ...PageQuery,
}, { additionalProperties: false });
export type ServicePointSearchQuery = Static<typeof ServicePointSearchQuery>;

export const StockInput = Type.Object({
  product: Code('Product code'),
  quantity: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,3})?$', description: 'Quantity received (added to on hand)' }),
}, { additionalProperties: false });
export type StockInput = Static<typeof StockInput>;

export const ProductInput = Type.Object({ code: Code('Unique code'), name: Text('Name'), unit: Text('Unit, e.g. kg', 20) }, { additionalProperties: false });
export type ProductInput = Static<typeof ProductInput>;
