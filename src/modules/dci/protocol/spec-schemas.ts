import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import YAML from 'yaml';

/**
 * The official DCI (SPDCI) schemas, loaded from the spec files at run time and compiled with ajv:
 * nothing of the envelope, header, ACK or message shapes is retyped by hand. The files are the
 * unedited copies in `spec/dci/` (see its SOURCES.md); what it takes to compile them is done here,
 * in memory, and listed in docs/DCI.md:
 *
 * - OpenAPI 3.0 keywords that are not JSON Schema (`example`, `x-*`, `discriminator`, the `int32`
 *   and `binary` formats) are ignored (`strict: false`, formats not asserted).
 * - `oneOf` becomes `anyOf`: the spec's `AttributeValue` is `oneOf [string, integer, number, …]`,
 *   which an integer matches twice and so always fails; nowhere does the spec rely on exclusivity.
 * - Formats (`date-time`, `uri`) are not asserted by the schema step: timestamps have their own
 *   reason codes (`rjct.message_ts.invalid`, `rjct.timestamp.invalid`), checked after it.
 */

export const DEFAULT_SPEC_DIR = fileURLToPath(new URL('../../../../spec/dci/', import.meta.url));

const BASE = 'https://commonweal.invalid/dci/';

/** Base of every schema id: `${SCHEMA_BASE}crvs#/components/schemas/SearchRequest` (documents: social, crvs, ibr, dr, registry_core, authz, jwks, locations). */
export const SCHEMA_BASE = BASE;

/** Schema names: the social registry's components, plus the ACK of the spec's `Response`. */
export const SCHEMA = {
  header: `${BASE}social#/components/schemas/MsgHeader_V1.0.0`,
  callbackHeader: `${BASE}social#/components/schemas/MsgCallbackHeader_V1.0.0`,
  signature: `${BASE}social#/components/schemas/MsgSignature`,
  encryptedMessage: `${BASE}social#/components/schemas/EncryptedMessage`,
  error: `${BASE}social#/components/schemas/Error`,
  ack: `${BASE}social#/components/responses/Response/content/application~1json/schema`,
  httpError: `${BASE}social#/components/responses/HttpErrorResponse/content/application~1json/schema`,
  searchRequest: `${BASE}social#/components/schemas/SearchRequest`,
  /** One item of a search batch (checked on its own, so one bad item does not sink the others). */
  searchRequestItem: `${BASE}social#/components/schemas/SearchRequest/properties/search_request/items`,
  searchResponse: `${BASE}social#/components/schemas/SearchResponse`,
  subscribeRequest: `${BASE}social#/components/schemas/SubscribeRequest`,
  subscribeRequestItem: `${BASE}social#/components/schemas/SubscribeRequest/properties/subscribe_request/items`,
  subscribeResponse: `${BASE}social#/components/schemas/SubscribeResponse`,
  unsubscribeRequest: `${BASE}social#/components/schemas/UnSubscribeRequest`,
  unsubscribeResponse: `${BASE}social#/components/schemas/UnSubscribeResponse`,
  txnStatusRequest: `${BASE}social#/components/schemas/TxnStatusRequest`,
  txnStatusResponse: `${BASE}social#/components/schemas/TxnStatusResponse`,
  notifyEventRequest: `${BASE}social#/components/schemas/NotifyEventRequest`,
  jwks: `${BASE}jwks#/components/schemas/JWKSResponse`,
  oauthTokenResponse: `${BASE}authz#/components/schemas/OAuth2ClientTokenResponse`,
  locations: `${BASE}locations#/paths/~1.well-known~1locations.json/get/responses/200/content/application~1json/schema`,
  /** The modular common schemas (core/common/schema/<File>.yaml), for clients of other registries. */
  common: (file: string) => `${BASE}common/schema/${file}`,
} as const;

export type SchemaName = Exclude<keyof typeof SCHEMA, 'common'>;

export interface SchemaProblem {
  /** JSON Pointer into the validated value. */
  path: string;
  message: string;
}

export type SchemaCheck = { valid: true } | { valid: false; problems: SchemaProblem[] };

const SCALAR_OR_OBJECT = ['string', 'integer', 'number', 'boolean', 'object'];

/**
 * oneOf → anyOf throughout (see above), and the attribute value union (string | integer | number |
 * boolean | object) also admits an array: the spec's `in` operator needs a list of values and has
 * no other way to carry one. Returns a copy.
 */
function relaxed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relaxed);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // `example` is kept: the spec points a $ref into one (TxnStatusResponse…/example is a schema).
    out[key === 'oneOf' ? 'anyOf' : key] = relaxed(value);
  }
  const union = out.anyOf;
  if (Array.isArray(union) && union.length === SCALAR_OR_OBJECT.length && union.every((branch, index) => (branch as { type?: unknown }).type === SCALAR_OR_OBJECT[index])) {
    out.anyOf = [...union, { type: 'array' }];
  }
  return out;
}

function readYaml(file: string): Record<string, unknown> {
  // The social file's description swallows `info.version` (a YAML slip upstream): parse leniently.
  return YAML.parse(fs.readFileSync(file, 'utf8'), { strict: false, uniqueKeys: false }) as Record<string, unknown>;
}

/** The compiled DCI schemas. Load once per process (`loadDciSchemas`); validation is synchronous. */
export class DciSchemas {
  private loaded: Ajv | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly specDir: string = DEFAULT_SPEC_DIR) {}

  /** Reading and adding the spec YAML takes seconds: done on first use, so a process that never
   *  speaks DCI (a CLI command, most test files) does not pay for it. */
  private get ajv(): Ajv {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private load(): Ajv {
    const specDir = this.specDir;
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false, validateSchema: false });
    const documents: Array<[string, string]> = [
      ['social', 'social/social_api_v1.0.0.yaml'],
      ['authz', 'core/authz_core_api_v1.0.0.yaml'],
      ['jwks', 'core/jwks_core_api_v1.0.0.yaml'],
      ['locations', 'core/locations_core_api_v1.0.0.yaml'],
      // The registries our DCI clients call (loaded when present).
      ['crvs', 'crvs/crvs_api_v1.0.0.yaml'],
      ['ibr', 'ibr/ibr_api_v1.0.0.yaml'],
      ['dr', 'dr/dr_api_v1.0.0.yaml'],
      ['registry_core', 'core/registry_core_api_v1.0.0.yaml'],
    ].filter(([, file]) => fs.existsSync(path.join(specDir, file!))) as Array<[string, string]>;
    for (const [id, file] of documents) ajv.addSchema(relaxed(readYaml(path.join(specDir, file))) as object, `${BASE}${id}`);
    for (const folder of ['schema', 'response']) {
      const dir = path.join(specDir, 'core/common', folder);
      if (!fs.existsSync(dir)) continue;
      for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
        const document = readYaml(path.join(dir, file));
        // A few upstream files are empty placeholders.
        if (document !== null && typeof document === 'object') ajv.addSchema(relaxed(document) as object, `${BASE}common/${folder}/${file}`);
      }
    }
    return ajv;
  }

  /** Compiles every named schema now, so a broken spec file stops the start rather than a request. */
  compileAll(): this {
    for (const name of Object.keys(SCHEMA) as Array<keyof typeof SCHEMA>) if (name !== 'common') this.validator(SCHEMA[name]);
    return this;
  }

  check(name: SchemaName, value: unknown): SchemaCheck {
    return this.checkRef(SCHEMA[name], value);
  }

  /** Any schema by reference, e.g. `SCHEMA.common('ExpPredicate.yaml')`. */
  checkRef(ref: string, value: unknown): SchemaCheck {
    const validate = this.validator(ref);
    if (validate(value)) return { valid: true };
    return { valid: false, problems: (validate.errors ?? []).map(problemOf) };
  }

  /** A raw schema object (for documentation, e.g. the OpenAPI of our routes). */
  schemaOf(name: SchemaName): object {
    const found = this.ajv.getSchema(SCHEMA[name]);
    if (!found) throw new Error(`DCI schema ${name} not found in ${this.specDir}`);
    return found.schema as object;
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.getSchema(ref);
      if (!validate) throw new Error(`DCI schema ${ref} not found in ${this.specDir}`);
      this.compiled.set(ref, validate);
    }
    return validate;
  }
}

function problemOf(error: ErrorObject): SchemaProblem {
  const missing = error.keyword === 'required' ? `/${String((error.params as { missingProperty?: string }).missingProperty)}` : '';
  return { path: `${error.instancePath}${missing}`, message: missing ? 'is required' : (error.message ?? 'is not valid') };
}

let shared: DciSchemas | undefined;

/** The process-wide schemas from the default spec folder, loaded and compiled on first use
 *  (protocol.test.ts compiles every named schema, so a broken spec file fails the tests). */
export function loadDciSchemas(): DciSchemas {
  shared ??= new DciSchemas();
  return shared;
}
