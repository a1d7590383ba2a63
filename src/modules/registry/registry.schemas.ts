import { Type, type Static } from 'typebox';

// One schema per contract: these validate requests, type the handlers and document the API.

const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'A code of the named vocabulary' });
const ShortText = (description: string, maxLength = 200) => Type.String({ minLength: 1, maxLength, description });
const DateString = Type.String({ format: 'date', description: 'ISO 8601 date, YYYY-MM-DD' });
const Uuid = Type.String({ format: 'uuid' });

export const HumanName = Type.Object({
  given: Type.Optional(ShortText('Given name(s)')),
  family: Type.Optional(ShortText('Family name')),
  additional: Type.Optional(ShortText('Middle or other names')),
  display: Type.Optional(ShortText('Name as displayed; built from the parts when omitted', 400)),
}, { additionalProperties: false });

export const Address = Type.Object({
  use: Type.Optional(Type.Union([Type.Literal('home'), Type.Literal('work'), Type.Literal('temporary'), Type.Literal('postal')])),
  line: Type.Optional(Type.Array(ShortText('Address line'), { maxItems: 4 })),
  city: Type.Optional(ShortText('City or locality')),
  district: Type.Optional(ShortText('District')),
  postalCode: Type.Optional(ShortText('Postal code', 20)),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
}, { additionalProperties: false });

export const Phone = Type.Object({
  value: Type.String({ minLength: 3, maxLength: 40, description: 'Phone number; stored normalised to E.164' }),
  use: Type.Optional(Type.Union([Type.Literal('mobile'), Type.Literal('home'), Type.Literal('work')])),
}, { additionalProperties: false });

export const IdentifierInput = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 200, description: 'An `id-type` code (e.g. national-id) or its namespace URI' }),
  value: ShortText('The identifier', 100),
  issuedOn: Type.Optional(DateString),
  expiresOn: Type.Optional(DateString),
}, { additionalProperties: false });

export const Disability = Type.Object({
  hasDisability: Type.Boolean(),
  types: Type.Optional(Type.Array(Code, { maxItems: 10, description: '`disability-type` codes' })),
}, { additionalProperties: false });

export const Income = Type.Object({
  monthly: Type.Number({ minimum: 0, maximum: 999_999_999_999.99, description: "Monthly income (up to 12 digits and 2 decimals)" }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' }),
}, { additionalProperties: false });

const CustomDocument = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { description: 'Deployment-defined fields' });

const sharedFields = {
  area: Type.Optional(Type.String({ maxLength: 64, description: 'Area code (P-code)' })),
  addresses: Type.Optional(Type.Array(Address, { maxItems: 5 })),
  phones: Type.Optional(Type.Array(Phone, { maxItems: 5 })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  income: Type.Optional(Income),
  custom: Type.Optional(CustomDocument),
  sourceSystem: Type.Optional(ShortText('System the record came from', 100)),
};

export const IndividualInput = Type.Object({
  name: HumanName,
  birthDate: Type.Optional(DateString),
  gender: Type.Optional(Type.String({ maxLength: 10, description: 'ISO 5218 code (`gender` vocabulary)' })),
  civilStatus: Type.Optional(Code),
  disability: Type.Optional(Disability),
  identifiers: Type.Optional(Type.Array(IdentifierInput, { maxItems: 20 })),
  ...sharedFields,
}, { additionalProperties: false });
export type IndividualInput = Static<typeof IndividualInput>;

/** JSON merge patch of an individual: the same fields, all optional, `null` clears. */
export const IndividualPatch = Type.Object({
  name: Type.Optional(Type.Object({
    given: Type.Optional(Type.Union([ShortText('Given name(s)'), Type.Null()])),
    family: Type.Optional(Type.Union([ShortText('Family name'), Type.Null()])),
    additional: Type.Optional(Type.Union([ShortText('Other names'), Type.Null()])),
    display: Type.Optional(Type.Union([ShortText('Display name', 400), Type.Null()])),
  }, { additionalProperties: false })),
  birthDate: Type.Optional(Type.Union([DateString, Type.Null()])),
  gender: Type.Optional(Type.Union([Type.String({ maxLength: 10 }), Type.Null()])),
  civilStatus: Type.Optional(Type.Union([Code, Type.Null()])),
  disability: Type.Optional(Type.Union([Disability, Type.Null()])),
  area: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  addresses: Type.Optional(Type.Union([Type.Array(Address, { maxItems: 5 }), Type.Null()])),
  phones: Type.Optional(Type.Union([Type.Array(Phone, { maxItems: 5 }), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
  income: Type.Optional(Type.Union([Income, Type.Null()])),
  custom: Type.Optional(Type.Union([CustomDocument, Type.Null()])),
  sourceSystem: Type.Optional(Type.Union([ShortText('Source system', 100), Type.Null()])),
}, { additionalProperties: false });
export type IndividualPatch = Static<typeof IndividualPatch>;

export const MemberInput = Type.Object({
  individual: Type.String({ maxLength: 200, description: 'UUID of the individual, `idtype|value`, or a `urn:uuid:` bundle reference' }),
  role: Code,
  startDate: Type.Optional(DateString),
}, { additionalProperties: false });
export type MemberInput = Static<typeof MemberInput>;

export const GroupInput = Type.Object({
  groupType: Code,
  name: ShortText('Name of the group, e.g. "Household of Ana Reyes"', 400),
  identifiers: Type.Optional(Type.Array(IdentifierInput, { maxItems: 20 })),
  members: Type.Optional(Type.Array(MemberInput, { maxItems: 100 })),
  ...sharedFields,
}, { additionalProperties: false });
export type GroupInput = Static<typeof GroupInput>;

export const GroupPatch = Type.Object({
  name: Type.Optional(ShortText('Group name', 400)),
  area: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  addresses: Type.Optional(Type.Union([Type.Array(Address, { maxItems: 5 }), Type.Null()])),
  phones: Type.Optional(Type.Union([Type.Array(Phone, { maxItems: 5 }), Type.Null()])),
  email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
  income: Type.Optional(Type.Union([Income, Type.Null()])),
  custom: Type.Optional(Type.Union([CustomDocument, Type.Null()])),
  sourceSystem: Type.Optional(Type.Union([ShortText('Source system', 100), Type.Null()])),
}, { additionalProperties: false });
export type GroupPatch = Static<typeof GroupPatch>;

export const DeactivateInput = Type.Object({
  reason: ShortText('Why the record is deactivated (e.g. deceased, duplicate, moved away)', 500),
  date: Type.Optional(DateString),
}, { additionalProperties: false });
export type DeactivateInput = Static<typeof DeactivateInput>;

export const EndMembershipInput = Type.Object({
  endDate: Type.Optional(DateString),
  reason: ShortText('Why the membership ends', 500),
}, { additionalProperties: false });
export type EndMembershipInput = Static<typeof EndMembershipInput>;

export const ChangeHeadInput = Type.Object({
  individual: Type.String({ maxLength: 200, description: 'The new head: a current member, by UUID or `idtype|value`' }),
  formerHeadRole: Type.Optional(Code),
}, { additionalProperties: false });
export type ChangeHeadInput = Static<typeof ChangeHeadInput>;

export const InvalidateIdentifierInput = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 200 }),
  value: ShortText('The identifier', 100),
  reason: ShortText('Why the identifier is invalid', 500),
}, { additionalProperties: false });
export type InvalidateIdentifierInput = Static<typeof InvalidateIdentifierInput>;

export const RelationshipInput = Type.Object({
  type: Code,
  target: Type.String({ maxLength: 200, description: 'The related individual: UUID or `idtype|value`' }),
  startDate: Type.Optional(DateString),
}, { additionalProperties: false });
export type RelationshipInput = Static<typeof RelationshipInput>;

export const RegistrantRef = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 300, description: 'UUID, or `idtype|value` (e.g. `national-id|AB1234567`)' }),
}, { additionalProperties: false });

export const Uuids = { Uuid };
