import type { Db, Queryable } from '../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { applyMergePatch, assertVersion } from '../../platform/versioning.js';
import {
  ID_TYPE_VOCABULARY, contentHashOf, readStamp, stampedDescription, systemVocabularies,
  type CodeProperties, type SystemVocabulary,
} from './system-vocabularies.js';
import {
  bumpVocabularyVersion, checkCodes, deactivateSystemCodesNotIn, findCodeRow, findVocabularyRow,
  insertCode, insertVocabulary, listCodeRows, listCodesOfVocabulary,
  listSystemVocabularyDescriptions, listVocabularyRows, lockSystemInstall, updateCode, upsertSystemCodes,
  upsertSystemVocabulary, type VocabularyCodeRow, type VocabularyWithCount,
} from './vocabularies.repository.js';
import { toCodeView, toIdType, toVocabularyView, type IdType, type VocabularyCodeView, type VocabularyView } from './vocabularies.views.js';

export type { IdType, VocabularyCodeView, VocabularyView } from './vocabularies.views.js';

export interface CodeCheck {
  vocabulary: string;
  code: string;
  /** JSON Pointer of the field holding the code, reported back in the validation error. */
  path: string;
}

export interface CodePageQuery {
  count: number;
  cursor?: string;
  codePrefix?: string;
  labelContains?: string;
  active?: boolean;
}

export interface CodePage {
  items: VocabularyCodeView[];
  /** Pass as `_cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Id types are re-read after this long, so changes made by another process show up. */
const ID_TYPE_CACHE_MS = 60_000;

interface IdTypeCache {
  loadedAt: number;
  byKey: Map<string, IdType>;
  list: IdType[];
}
const installer = systemActor('system-vocabularies');
/** Clients may not mint URIs in our own namespace: system vocabularies live there. */
const RESERVED_NAMESPACE = 'urn:commonweal:';
const IDENTIFIER_SYSTEM = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

let shippedHashes: Array<{ vocabulary: SystemVocabulary; hash: string }> | undefined;

/** Code lists: the shipped system vocabularies, plus the local codes and vocabularies of a deployment. */
export class VocabularyService {
  private idTypeCache?: IdTypeCache;
  private idTypeLoad?: Promise<IdTypeCache>;
  private idTypeGeneration = 0;

  constructor(private readonly db: Db) {}

  /** Installs or updates the shipped vocabularies; one cheap query when they are already current. */
  async installSystemVocabularies(): Promise<void> {
    shippedHashes ??= systemVocabularies.map((vocabulary) => ({ vocabulary, hash: contentHashOf(vocabulary) }));
    const wanted = shippedHashes;
    if ((await staleOf(this.db, wanted)).length === 0) return;
    await this.db.transaction(async (tx) => {
      await lockSystemInstall(tx);
      for (const { vocabulary, hash } of await staleOf(tx, wanted)) {
        const { codes, ...fields } = vocabulary;
        const row = await upsertSystemVocabulary(tx, { ...fields, description: stampedDescription(fields.description, hash) });
        const changedCodes = await upsertSystemCodes(tx, row.id, codes);
        const retiredCodes = await deactivateSystemCodesNotIn(tx, row.id, codes.map((c) => c.code));
        await recordAudit(tx, { actor: installer }, {
          action: 'install', entityType: 'vocabulary', entityId: vocabulary.code,
          after: { contentHash: hash, version: row.version, changedCodes, retiredCodes },
        });
      }
    });
    this.forgetIdTypes(ID_TYPE_VOCABULARY);
  }

  /**
   * Checks many codes with one query and reports every unknown or inactive one at its path, so a
   * caller learns all its mistakes at once. Pass a transaction as `db` to check inside it.
   */
  async assertCodes(checks: CodeCheck[], db: Queryable = this.db): Promise<void> {
    if (checks.length === 0) return;
    const key = (pair: { vocabulary: string; code: string }) => `${pair.vocabulary}\u0000${pair.code}`;
    const pairs = [...new Map(checks.map((c) => [key(c), { vocabulary: c.vocabulary, code: c.code }])).values()];
    const found = new Map((await checkCodes(db, pairs)).map((row) => [key(row), row]));
    const fields: FieldProblem[] = [];
    for (const check of checks) {
      const row = found.get(key(check));
      if (!row?.vocabularyExists) fields.push({ path: check.path, message: `"${check.vocabulary}" is not a known vocabulary` });
      else if (row.isActive === null) fields.push({ path: check.path, message: `"${check.code}" is not a code of vocabulary "${check.vocabulary}"` });
      else if (!row.isActive) fields.push({ path: check.path, message: `"${check.code}" is no longer an active code of vocabulary "${check.vocabulary}"` });
    }
    if (fields.length > 0) {
      throw AppError.validation(`Unknown or inactive codes: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`, fields);
    }
  }

  /** An id type by its code (`national-id`) or its namespace URI; inactive ones too (see `isActive`). */
  async findIdType(codeOrSystem: string): Promise<IdType | undefined> {
    return this.freshIdTypeCache()?.byKey.get(codeOrSystem) ?? (await this.loadIdTypes()).byKey.get(codeOrSystem);
  }

  /** All id types, inactive ones too (stored identifiers may use them); `activeOnly` for pickers. */
  async listIdTypes(options: { activeOnly?: boolean } = {}): Promise<IdType[]> {
    const cache = this.freshIdTypeCache() ?? await this.loadIdTypes();
    return cache.list.filter((idType) => !options.activeOnly || idType.isActive);
  }

  async listVocabularies(): Promise<VocabularyView[]> {
    return (await listVocabularyRows(this.db)).map(toVocabularyView);
  }

  async getVocabulary(code: string): Promise<VocabularyView> {
    return toVocabularyView(await this.requireVocabulary(this.db, code));
  }

  /** Codes in code order, a page at a time (language has thousands). */
  async listCodes(vocabularyCode: string, query: CodePageQuery): Promise<CodePage> {
    const vocabulary = await this.requireVocabulary(this.db, vocabularyCode);
    const rows = await listCodeRows(this.db, vocabulary.id, {
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      codePrefix: query.codePrefix,
      labelContains: query.labelContains,
      active: query.active,
      limit: query.count + 1,
    });
    const items = rows.slice(0, query.count).map((row) => toCodeView(vocabulary.code, row));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > query.count && last ? encodeCursor(last.code) : null };
  }

  async getCode(vocabularyCode: string, code: string): Promise<VocabularyCodeView> {
    const vocabulary = await this.requireVocabulary(this.db, vocabularyCode);
    return toCodeView(vocabulary.code, await requireCode(this.db, vocabulary, code));
  }

  async createVocabulary(context: RequestContext, input: { code: string; name: string; description?: string; namespaceUri?: string }): Promise<VocabularyView> {
    const name = requireText(input.name, '/name');
    if (input.namespaceUri?.startsWith(RESERVED_NAMESPACE)) {
      throw AppError.validation(`Namespace URIs starting with ${RESERVED_NAMESPACE} are reserved; leave namespaceUri out to get one`, [{ path: '/namespaceUri', message: 'is reserved' }]);
    }
    const values = {
      code: input.code,
      name,
      description: input.description?.trim() || null,
      namespaceUri: input.namespaceUri ?? `urn:commonweal:local:vocabulary:${input.code}`,
      isSystem: false,
    };
    return this.db.transaction(async (tx) => {
      const row = await insertVocabulary(tx, values);
      if (!row) {
        const taken = (await findVocabularyRow(tx, values.code)) ? `code "${values.code}"` : `namespace URI ${values.namespaceUri}`;
        throw new AppError('conflict', `A vocabulary with ${taken} already exists`);
      }
      const { code, namespaceUri, description } = row;
      await recordAudit(tx, context, { action: 'create', entityType: 'vocabulary', entityId: code, after: { namespaceUri, name, description } });
      return toVocabularyView({ ...row, codeCount: 0 });
    });
  }

  /** Adds a local code to any vocabulary, system ones included. */
  async addLocalCode(context: RequestContext, vocabularyCode: string, input: { code: string; label: string; properties?: CodeProperties }): Promise<VocabularyCodeView> {
    const label = requireText(input.label, '/label');
    let properties: CodeProperties = input.properties ?? {};
    if (vocabularyCode === ID_TYPE_VOCABULARY) properties = await this.idTypeProperties(input.code, properties);
    const view = await this.db.transaction(async (tx) => {
      const vocabulary = await this.requireVocabulary(tx, vocabularyCode);
      const row = await insertCode(tx, { vocabularyId: vocabulary.id, code: input.code, label, properties, isLocal: true });
      if (!row) throw new AppError('conflict', `"${input.code}" is already a code of vocabulary "${vocabulary.code}"`);
      await bumpVocabularyVersion(tx, vocabulary.id);
      await recordAudit(tx, context, { action: 'create', entityType: 'vocabulary_code', entityId: `${vocabulary.code}#${row.code}`, after: { label, properties } });
      return toCodeView(vocabulary.code, row);
    });
    this.forgetIdTypes(vocabularyCode);
    return view;
  }

  /** Applies a JSON merge patch (only `label` can change) to a local code at the version the client read. */
  async patchLocalCode(context: RequestContext, vocabularyCode: string, code: string, patch: Record<string, unknown>, expectedVersion: number): Promise<VocabularyCodeView> {
    const view = await this.changeLocalCode(context, vocabularyCode, code, 'update', expectedVersion, (row) => {
      const patched = applyMergePatch({ label: row.label }, patch) as { label?: unknown };
      if (typeof patched.label !== 'string') throw AppError.validation('A code needs a label', [{ path: '/label', message: 'is required' }]);
      return { label: requireText(patched.label, '/label') };
    });
    this.forgetIdTypes(vocabularyCode);
    return view;
  }

  /** Stops a local code being accepted for new data; records holding it keep it. */
  async setLocalCodeActive(context: RequestContext, vocabularyCode: string, code: string, isActive: boolean, expectedVersion?: number): Promise<VocabularyCodeView> {
    const view = await this.changeLocalCode(context, vocabularyCode, code, isActive ? 'activate' : 'deactivate', expectedVersion, () => ({ isActive }));
    this.forgetIdTypes(vocabularyCode);
    return view;
  }

  private async changeLocalCode(
    context: RequestContext, vocabularyCode: string, code: string, action: string, expectedVersion: number | undefined,
    change: (row: VocabularyCodeRow) => { label?: string; isActive?: boolean },
  ): Promise<VocabularyCodeView> {
    return this.db.transaction(async (tx) => {
      const vocabulary = await this.requireVocabulary(tx, vocabularyCode);
      const row = await requireCode(tx, vocabulary, code, { forUpdate: true });
      if (!row.isLocal) {
        throw new AppError('business_rule_violated', `"${code}" is a system code of vocabulary "${vocabulary.code}"; system codes cannot be changed or deactivated, add a local code instead`);
      }
      if (expectedVersion !== undefined) assertVersion(expectedVersion, row.version, `Code "${code}" of vocabulary "${vocabulary.code}"`);
      const changes = change(row);
      const before = { label: row.label, isActive: row.isActive };
      const after = { ...before, ...changes };
      if (after.label === before.label && after.isActive === before.isActive) return toCodeView(vocabulary.code, row);
      const updated = await updateCode(tx, row.id, changes);
      await bumpVocabularyVersion(tx, vocabulary.id);
      await recordAudit(tx, context, { action, entityType: 'vocabulary_code', entityId: `${vocabulary.code}#${row.code}`, before, after });
      return toCodeView(vocabulary.code, updated);
    });
  }

  /** A local id type needs a namespace URI no other id type uses, and a pattern that compiles. */
  private async idTypeProperties(code: string, properties: CodeProperties): Promise<CodeProperties> {
    const { system = `urn:commonweal:id:${code}`, pattern } = properties;
    const fields: FieldProblem[] = [];
    if (typeof system !== 'string' || !IDENTIFIER_SYSTEM.test(system)) fields.push({ path: '/properties/system', message: 'must be a URI such as urn:example:id:card' });
    if (pattern !== undefined && (typeof pattern !== 'string' || !compiles(pattern))) fields.push({ path: '/properties/pattern', message: 'must be a valid regular expression' });
    if (fields.length > 0) throw AppError.validation('The id type properties are not valid', fields);
    const clash = await this.findIdType(String(system));
    if (clash) throw new AppError('conflict', `Id type "${clash.code}" already uses the system ${String(system)}`);
    return { ...properties, system };
  }

  private async requireVocabulary(db: Queryable, code: string): Promise<VocabularyWithCount> {
    const row = await findVocabularyRow(db, code);
    if (!row) throw AppError.notFound(`Vocabulary "${code}"`);
    return row;
  }

  private loadIdTypes(): Promise<IdTypeCache> {
    if (!this.idTypeLoad) {
      const generation = this.idTypeGeneration;
      const load: Promise<IdTypeCache> = listCodesOfVocabulary(this.db, ID_TYPE_VOCABULARY).then((rows) => {
        const list = rows.flatMap(toIdType);
        const byKey = new Map<string, IdType>();
        for (const idType of list) byKey.set(idType.system, idType).set(idType.code, idType);
        const cache = { loadedAt: Date.now(), byKey, list };
        // A write since the read started makes this result stale: use it once, do not keep it.
        if (generation === this.idTypeGeneration) this.idTypeCache = cache;
        return cache;
      }).finally(() => {
        if (this.idTypeLoad === load) this.idTypeLoad = undefined;
      });
      this.idTypeLoad = load;
    }
    return this.idTypeLoad;
  }

  private freshIdTypeCache(): IdTypeCache | undefined {
    const cache = this.idTypeCache;
    return cache && Date.now() - cache.loadedAt < ID_TYPE_CACHE_MS ? cache : undefined;
  }

  private forgetIdTypes(vocabularyCode: string): void {
    if (vocabularyCode !== ID_TYPE_VOCABULARY) return;
    this.idTypeGeneration += 1;
    this.idTypeCache = undefined;
    this.idTypeLoad = undefined;
  }
}

/** Vocabularies whose stored content stamp differs from what this build ships. */
async function staleOf(db: Queryable, wanted: Array<{ vocabulary: SystemVocabulary; hash: string }>) {
  const installed = new Map((await listSystemVocabularyDescriptions(db)).map((row) => [row.code, readStamp(row.description).hash]));
  return wanted.filter(({ vocabulary, hash }) => installed.get(vocabulary.code) !== hash);
}

async function requireCode(db: Queryable, vocabulary: VocabularyWithCount, code: string, options: { forUpdate?: boolean } = {}): Promise<VocabularyCodeRow> {
  const row = await findCodeRow(db, vocabulary.id, code, options);
  if (!row) throw AppError.notFound(`Code "${code}" of vocabulary "${vocabulary.code}"`);
  return row;
}

function requireText(value: string, path: string): string {
  const text = value.trim();
  if (!text) throw AppError.validation(`${path.slice(1)} must not be blank`, [{ path, message: 'must not be blank' }]);
  return text;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function encodeCursor(code: string): string {
  return Buffer.from(code, 'utf8').toString('base64url');
}

/** Longer than any cursor this service gives out (the base64url of a code of at most 64 characters). */
const MAX_CURSOR_LENGTH = 200;

/** Only a cursor this service wrote is accepted: the exact encoding of a non-empty code. */
function decodeCursor(cursor: string): string {
  const code = cursor.length > MAX_CURSOR_LENGTH ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
  if (!code || encodeCursor(code) !== cursor) {
    throw new AppError('unknown_parameter', 'Search parameter _cursor is not a cursor from a previous page of this search; follow links.next', [{ path: 'query:/_cursor', message: 'is not a valid cursor' }]);
  }
  return code;
}
