import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { createBodyValidator } from '../../../platform/http/validation.js';
import { IndividualInput } from '../registry.schemas.js';
import { buildDisplayName, checkBirthDate, checkCustomFields, individualColumns, normalizePhones, type CustomFieldDefinition } from '../registrant-input.js';
import type { NewRegistrantRow } from '../registry.repository.js';
import type { AreaLookup, CodeLookup } from '../registry.service.js';

export interface BulkIdentifier { idType: string; value: string; issuedOn: string | null; expiresOn: string | null }
export interface ValidPerson {
  values: Omit<NewRegistrantRow, 'uuid' | 'kind'>;
  identifiers: BulkIdentifier[];
}

const validateShape = createBodyValidator(IndividualInput);

/**
 * Validates many individuals at once with the same rules as the single-record API, but with the
 * reference data (codes, areas, id types, custom fields) looked up once per batch instead of per
 * record: the difference between dozens and tens of thousands of records a second.
 */
export class BulkValidator {
  private readonly areaIds = new Map<string, number | null>();
  private readonly knownCodes = new Map<string, boolean>();

  private constructor(
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    private readonly idTypes: Map<string, { code: string; pattern?: RegExp; isActive: boolean }>,
    private readonly customFields: CustomFieldDefinition[],
    private readonly defaultPhoneRegion: string | undefined,
  ) {}

  static async create(codes: CodeLookup, areas: AreaLookup, customFields: CustomFieldDefinition[], defaultPhoneRegion?: string): Promise<BulkValidator> {
    const idTypes = new Map<string, { code: string; pattern?: RegExp; isActive: boolean }>();
    for (const idType of await codes.listIdTypes()) {
      const entry = { code: idType.code, pattern: idType.pattern ? new RegExp(idType.pattern) : undefined, isActive: idType.isActive !== false };
      idTypes.set(idType.code, entry);
      idTypes.set(idType.system, entry);
    }
    return new BulkValidator(codes, areas, idTypes, customFields, defaultPhoneRegion);
  }

  /** Resolves every distinct code and area of the batch in a few queries, before validating rows. */
  async prefetch(inputs: IndividualInput[], extraAreas: string[] = []): Promise<void> {
    const pairs = new Map<string, { vocabulary: string; code: string }>();
    const add = (vocabulary: string, code: string | undefined) => {
      const key = `${vocabulary}\u0000${code}`;
      if (code !== undefined && !this.knownCodes.has(key)) pairs.set(key, { vocabulary, code });
    };
    for (const input of inputs) {
      add('gender', input.gender);
      add('civil-status', input.civilStatus);
      for (const type of input.disability?.types ?? []) add('disability-type', type);
    }
    if (pairs.size > 0) {
      const checks = [...pairs.entries()].map(([key, pair]) => ({ ...pair, path: key }));
      const unknown = new Set<string>();
      await this.codes.assertCodes(checks).catch((error: unknown) => {
        if (!(error instanceof AppError)) throw error;
        for (const field of error.fields) unknown.add(field.path);
      });
      for (const key of pairs.keys()) this.knownCodes.set(key, !unknown.has(key));
    }
    const areaCodes = new Set([...inputs.map((input) => input.area), ...extraAreas].filter((code): code is string => !!code && !this.areaIds.has(code)));
    for (const code of areaCodes) {
      const area = await this.areas.findAreaByCode(code);
      this.areaIds.set(code, area && area.isActive !== false ? area.id : null);
    }
  }

  areaIdOf(code: string): number | null | undefined {
    return this.areaIds.get(code);
  }

  /** Column values for one individual, or the problems that stop it (paths as in the single-record API). */
  validate(input: unknown): { person: ValidPerson } | { problems: FieldProblem[] } {
    const shapeProblems = validateShape(input, '');
    if (shapeProblems.length > 0) return { problems: shapeProblems };
    const individual = input as IndividualInput;
    const problems: FieldProblem[] = [];
    const displayName = buildDisplayName(individual.name);
    if (!displayName) problems.push({ path: '/name', message: 'must have a given, family or display name' });
    const codeProblem = (vocabulary: string, code: string | undefined, path: string) => {
      if (code !== undefined && this.knownCodes.get(`${vocabulary}\u0000${code}`) === false) problems.push({ path, message: `"${code}" is not a code of vocabulary "${vocabulary}"` });
    };
    codeProblem('gender', individual.gender, '/gender');
    codeProblem('civil-status', individual.civilStatus, '/civilStatus');
    (individual.disability?.types ?? []).forEach((code, index) => codeProblem('disability-type', code, `/disability/types/${index}`));
    let areaId: number | null = null;
    if (individual.area) {
      areaId = this.areaIds.get(individual.area) ?? null;
      if (areaId === null) problems.push({ path: '/area', message: `"${individual.area}" is not the code of an active area` });
    }
    const identifiers: BulkIdentifier[] = [];
    (individual.identifiers ?? []).forEach((identifier, index) => {
      const idType = this.idTypes.get(identifier.type);
      if (!idType || !idType.isActive) problems.push({ path: `/identifiers/${index}/type`, message: `"${identifier.type}" is not an identifier type in use` });
      else if (idType.pattern && !idType.pattern.test(identifier.value)) problems.push({ path: `/identifiers/${index}/value`, message: `does not match the ${idType.code} format ${idType.pattern.source}` });
      else identifiers.push({ idType: idType.code, value: identifier.value, issuedOn: identifier.issuedOn ?? null, expiresOn: identifier.expiresOn ?? null });
    });
    let phones: ValidPerson['values']['phones'] = [];
    for (const check of [
      () => checkBirthDate(individual.birthDate, '/birthDate'),
      () => checkCustomFields(individual.custom ?? {}, this.customFields),
      () => { phones = normalizePhones(individual.phones ?? [], this.defaultPhoneRegion, '/phones'); },
    ]) {
      try {
        check();
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        problems.push(...error.fields);
      }
    }
    if (problems.length > 0) return { problems };
    return { person: { identifiers, values: individualColumns(individual, { areaId, phones }) } };
  }
}
