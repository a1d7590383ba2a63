import { Type, type Static } from 'typebox';

// Request contracts of the consent API. Terms are checked against the closed DPV lists by the
// service (so an unknown code gets a 400 naming it and the accepted ones).

const Text = (description: string, maxLength = 200) => Type.String({ minLength: 1, maxLength, description });
const Terms = (description: string, maxItems: number) => Type.Array(Text(description), { minItems: 1, maxItems });

export const RegistrantRefParams = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 300, description: 'UUID, or `idtype|value` (e.g. `national-id|AB1234567`)' }),
}, { additionalProperties: false });

export const ConsentIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const Evidence = Type.Object({
  type: Type.Union([
    Type.Literal('signed-form'), Type.Literal('thumbprint'), Type.Literal('verbal-witnessed'), Type.Literal('electronic-signature'), Type.Literal('recording'),
  ], { description: 'How the registrant expressed the decision' }),
  reference: Type.Optional(Text('Where the evidence is kept (document number, file reference)')),
  witness: Type.Optional(Text('Who witnessed or collected it')),
  capturedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When it was captured, if not now (e.g. a paper form entered later)' })),
  notes: Type.Optional(Text('Anything else worth keeping', 1000)),
}, { additionalProperties: false });
export type Evidence = Static<typeof Evidence>;

export const ConsentInput = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('requested'), Type.Literal('given')], {
    description: '`requested` (default): asked, awaiting the decision; `given`: already given, `evidence` required',
  })),
  purposes: Terms('A DPV purpose: `dpv:ServiceProvision` or its IRI', 20),
  dataCategories: Terms('A DPV-PD personal data category: `dpv-pd:Name` or its IRI', 30),
  processingOperations: Terms('A DPV processing operation: `dpv:Use`, `dpv:Share`… or its IRI', 20),
  recipient: Type.Object({
    organisation: Type.Optional(Text('The organisation the data may go to (matched against API clients\' organisation)')),
    organisationType: Type.Optional(Text('Or: any organisation of this type (matched against API clients\' organisation type)')),
  }, { additionalProperties: false, description: 'Exactly one of organisation or organisationType' }),
  legalNotice: Type.Optional(Text('The notice shown to the registrant, or where to find it', 4000)),
  collectionMethod: Type.Optional(Text('How the consent was asked for (e.g. in-person interview, phone, paper form)')),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'After this moment the consent no longer counts' })),
  evidence: Type.Optional(Evidence),
}, { additionalProperties: false });
export type ConsentInput = Static<typeof ConsentInput>;

export const GiveInput = Type.Object({ evidence: Evidence }, { additionalProperties: false });
export type GiveInput = Static<typeof GiveInput>;

export const RefuseInput = Type.Object({ reason: Type.Optional(Text('Why, if the registrant said', 1000)) }, { additionalProperties: false });
export type RefuseInput = Static<typeof RefuseInput>;

export const WithdrawInput = Type.Object({ reason: Text('Why the consent is withdrawn', 1000) }, { additionalProperties: false });
export type WithdrawInput = Static<typeof WithdrawInput>;
