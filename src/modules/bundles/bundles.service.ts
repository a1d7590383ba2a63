import type { Db, Tx } from '../../platform/database/database.js';
import { AppError, errorCodes } from '../../platform/errors.js';
import { hasScope } from '../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { etagOf } from '../../platform/versioning.js';
import type { RegistryService } from '../registry/registry.service.js';
import type { ConsentCoverage } from '../consents/consent-filter.js';
import type { RegistrantRelease } from '../consents/registrant-release.js';
import type { Bundle, BundleEntry } from './bundle.schemas.js';
import { findOperation, type OperationResult } from './bundle-operations.js';

export interface BundleEntryResponse {
  status: string;
  location?: string;
  etag?: string;
  resource?: unknown;
  /** For a failed batch entry: the problem, as the single request would have returned it. */
  outcome?: { code: string; title: string; detail: string; errors?: unknown[] };
}

export interface BundleResponse {
  resourceType: 'Bundle';
  type: 'transaction-response' | 'batch-response';
  entries: BundleEntryResponse[];
}

/** Registrant records a bundle response carries (relationships, memberships… are not registrants). */
type RegistrantResource = { resourceType: 'Individual' | 'Group'; id: string };
const isRegistrant = (resource: unknown): resource is RegistrantResource => {
  const type = (resource as { resourceType?: unknown } | undefined)?.resourceType;
  return (type === 'Individual' || type === 'Group') && typeof (resource as { id?: unknown }).id === 'string';
};

/**
 * `$batch`: several registry writes in one request. A `transaction` bundle runs every entry in one
 * database transaction (any failure rolls all back and is reported with the entry's index); a
 * `batch` runs each entry in its own. Later entries may refer to what earlier ones created through
 * their `urn:uuid:` fullUrl.
 */
export class BundleService {
  constructor(private readonly db: Db, private readonly registry: RegistryService, private readonly release: RegistrantRelease) {}

  /**
   * Runs the bundle, then releases its registrant records as any read would (consent filter,
   * masking, reveal audit), after the writes committed. The status summarises every entry.
   */
  async processAndRelease(context: RequestContext, bundle: Bundle, onUnexpectedError?: (error: unknown, index: number) => void): Promise<{ body: BundleResponse; consentStatus: ConsentCoverage }> {
    const response = await this.process(context, bundle, onUnexpectedError);
    const carrying = response.entries.filter((entry) => isRegistrant(entry.resource));
    const { body, consentStatus } = await this.release.page(context, { items: carrying.map((entry) => entry.resource as RegistrantResource) });
    carrying.forEach((entry, index) => { entry.resource = body.items[index]; });
    return { body: response, consentStatus };
  }

  /**
   * `onUnexpectedError` hears of a batch entry that failed with something other than an AppError
   * (a bug): that entry is answered 500 and the batch goes on, so the client still learns which
   * entries were written. In a transaction such an error fails the whole request as usual.
   */
  async process(context: RequestContext, bundle: Bundle, onUnexpectedError: (error: unknown, index: number) => void = () => {}): Promise<BundleResponse> {
    checkFullUrlsAreUnique(bundle.entries);
    if (bundle.type === 'transaction') {
      const entries = await this.db.transaction(async (tx) => {
        const references = new Map<string, string>();
        const responses: BundleEntryResponse[] = [];
        for (const [index, entry] of bundle.entries.entries()) {
          try {
            responses.push(toResponse(await this.runEntry(context, entry, references, tx)));
          } catch (error) {
            throw error instanceof AppError ? atEntry(error, index) : error;
          }
        }
        return responses;
      });
      return { resourceType: 'Bundle', type: 'transaction-response', entries };
    }
    const references = new Map<string, string>();
    const entries: BundleEntryResponse[] = [];
    for (const [index, entry] of bundle.entries.entries()) {
      try {
        entries.push(toResponse(await this.db.transaction((tx) => this.runEntry(context, entry, references, tx))));
      } catch (error) {
        if (!(error instanceof AppError)) {
          onUnexpectedError(error, index);
          entries.push({ status: String(errorCodes.internal.status), outcome: { code: 'internal', title: errorCodes.internal.title, detail: `Entry ${index}: an unexpected error occurred; quote the request id when reporting it` } });
          continue;
        }
        const located = atEntry(error, index);
        entries.push({ status: String(errorCodes[located.code].status), outcome: { code: located.code, title: errorCodes[located.code].title, detail: located.message, ...(located.fields.length > 0 ? { errors: located.fields } : {}) } });
      }
    }
    return { resourceType: 'Bundle', type: 'batch-response', entries };
  }

  private async runEntry(context: RequestContext, entry: BundleEntry, references: Map<string, string>, tx: Tx): Promise<OperationResult> {
    const url = substitute(entry.request.url, references) as string;
    const found = findOperation(entry.request.method, url);
    if (!found) throw new AppError('validation_failed', `A bundle cannot do ${entry.request.method} ${entry.request.url}`, [{ path: '/request/url', message: 'is not a supported bundle operation' }]);
    if (!hasScope(context.actor.scopes, found.operation.scope)) throw new AppError('forbidden', `This entry needs the scope "${found.operation.scope}"`);
    const body = substitute(entry.resource ?? {}, references);
    const problems = found.validate?.(body, '/resource') ?? [];
    if (problems.length > 0) throw AppError.validation(`The entry's resource is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
    const result = await found.operation.run(this.registry, context, found.params, body as never, tx, entry.request.ifMatch)
      .catch((error: unknown) => { throw error instanceof AppError ? withinEntry(error) : error; });
    if (entry.fullUrl && result.resource.id) references.set(entry.fullUrl.toLowerCase(), result.resource.id);
    return result;
  }
}

function toResponse(result: OperationResult): BundleEntryResponse {
  return {
    status: String(result.status),
    ...(result.location ? { location: result.location } : {}),
    ...(typeof result.resource.version === 'number' ? { etag: etagOf(result.resource.version) } : {}),
    resource: result.resource,
  };
}

/**
 * An operation reports field paths as its single route would: body fields from the body's root,
 * path parameters as `params:…`, the If-Match header as `header:If-Match`. In a bundle these are the
 * entry's `/resource`, `/request/url` and `/request/ifMatch`.
 */
function withinEntry(error: AppError): AppError {
  if (error.fields.length === 0) return error;
  const pathInEntry = (path: string) => {
    if (path.startsWith('/')) return `/resource${path}`;
    if (path.startsWith('params:')) return '/request/url';
    if (path.toLowerCase() === 'header:if-match') return '/request/ifMatch';
    return path;
  };
  const seen = new Set<string>();
  const fields = error.fields.map((field) => ({ ...field, path: pathInEntry(field.path) })).filter((field) => {
    const key = `${field.path}\u0000${field.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return new AppError(error.code, error.message, fields, error.extra);
}

/** Prefixes the failing entry's index to the error, so the client sees which entry to fix. */
function atEntry(error: AppError, index: number): AppError {
  const fields = error.fields.map((field) => ({ ...field, path: field.path.startsWith('/') ? `/entries/${index}${field.path}` : `/entries/${index}/${field.path}` }));
  return new AppError(error.code, `Entry ${index}: ${error.message}`, fields.length > 0 ? fields : [{ path: `/entries/${index}`, message: error.message }], error.extra);
}

/** Replaces every string equal to a known `urn:uuid:` placeholder (or a URL segment equal to one) with the created id. */
function substitute(value: unknown, references: Map<string, string>): unknown {
  if (typeof value === 'string') {
    const direct = references.get(value.toLowerCase());
    if (direct) return direct;
    return value.includes('urn:uuid:') ? value.split('/').map((segment) => references.get(segment.toLowerCase()) ?? segment).join('/') : value;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, references));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, references)]));
  return value;
}

function checkFullUrlsAreUnique(entries: BundleEntry[]): void {
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (!entry.fullUrl) continue;
    const key = entry.fullUrl.toLowerCase();
    if (seen.has(key)) throw AppError.validation(`fullUrl ${entry.fullUrl} appears twice`, [{ path: `/entries/${index}/fullUrl`, message: 'must be unique within the bundle' }]);
    seen.add(key);
  }
}
