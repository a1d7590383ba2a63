/**
 * TypeScript shapes of the DCI envelope. These are types only: the run-time checks are the
 * official schemas (spec-schemas.ts). Field names are the spec's (snake_case).
 */

export const DCI_VERSION = '1.0.0';

/** Request header (`MsgHeader_V1.0.0`). */
export interface DciHeader {
  version?: string;
  message_id: string;
  message_ts: string;
  action: string;
  sender_id: string;
  sender_uri?: string;
  receiver_id?: string;
  total_count: number;
  is_msg_encrypted?: boolean;
  meta?: Record<string, unknown>;
}

/** Callback / response header (`MsgCallbackHeader_V1.0.0`). */
export interface DciCallbackHeader {
  version?: string;
  message_id: string;
  message_ts: string;
  action: string;
  status: RequestStatus;
  status_reason_code?: MsgHeaderStatusReasonCode;
  status_reason_message?: string;
  total_count?: number;
  completed_count?: number;
  sender_id?: string;
  receiver_id?: string;
  is_msg_encrypted?: boolean;
  meta?: Record<string, unknown>;
}

export interface DciEnvelope<H = DciHeader, M = Record<string, unknown>> {
  signature?: string;
  header: H;
  message?: M;
}

export type RequestStatus = 'rcvd' | 'pdng' | 'succ' | 'rjct';

/** `EncryptedMessage`: a flattened JWE whose (unprotected) header names alg, enc and kid. */
export interface EncryptedMessage {
  header: { alg: string; enc: string; kid: string; [parameter: string]: unknown };
  ciphertext: string;
  encrypted_key: string;
  tag: string;
  iv: string;
  /** Our extension: the JWE protected header, when the sender used one (base64url). */
  protected?: string;
}

/** `Error` codes (communication layer; answered in an ERR acknowledgement). */
export const ERROR_CODES = [
  'err.request.bad', 'err.request.unauthorized', 'err.request.forbidden', 'err.request.not_found', 'err.request.timeout',
  'err.version.not_supported', 'err.request.too_many_requests', 'err.sender_id.invalid', 'err.sender_uri.invalid',
  'err.receiver_id.invalid', 'err.signature.missing', 'err.signature.invalid', 'err.encryption.invalid', 'err.service.unavailable',
] as const;
export type DciErrorCode = (typeof ERROR_CODES)[number];

/** `MsgHeaderStatusReasonCode` (a whole message refused: status `rjct` in the response header). */
export const HEADER_REASON_CODES = [
  'rjct.version.invalid', 'rjct.message_id.duplicate', 'rjct.message_ts.invalid', 'rjct.action.invalid',
  'rjct.action.not_supported', 'rjct.total_count.invalid', 'rjct.total_count.limit_exceeded', 'rjct.errors.too_many',
] as const;
export type MsgHeaderStatusReasonCode = (typeof HEADER_REASON_CODES)[number];

/** `SearchStatusReasonCode` (one item of a batch refused). */
export const SEARCH_REASON_CODES = [
  'rjct.reference_id.invalid', 'rjct.reference_id.duplicate', 'rjct.timestamp.invalid', 'rjct.search_criteria.invalid',
  'rjct.filter.invalid', 'rjct.sort.invalid', 'rjct.pagination.invalid', 'rjct.search.too_many_records_found',
] as const;
export type SearchStatusReasonCode = (typeof SEARCH_REASON_CODES)[number];

export type AckStatus = 'ACK' | 'NACK' | 'ERR';

/** The spec's acknowledgement (`components.responses.Response`). */
export interface DciAck {
  message: {
    ack_status: AckStatus;
    timestamp: string;
    correlation_id: string;
    error?: { code: DciErrorCode; message?: string };
  };
}

/** HTTP transport errors (`HttpErrorResponse`): 401, 403 and other non-DCI failures. */
export interface DciHttpErrors {
  errors: Array<{ code: string; message: string }>;
}

export type DciAction = 'search' | 'on-search' | 'subscribe' | 'on-subscribe' | 'unsubscribe' | 'on-unsubscribe' | 'notify' | 'txn-status' | 'txn-on-status';

/** The action a callback or sync response carries for a request action. */
export const RESPONSE_ACTION: Record<string, DciAction> = {
  search: 'on-search',
  subscribe: 'on-subscribe',
  unsubscribe: 'on-unsubscribe',
  'txn-status': 'txn-on-status',
};

/** ISO 8601 date-time with a zone, as the spec's `DateTime` requires (2022-12-04T17:20:07-04:00). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** The instant of a spec date-time, or undefined when it is not one (no zone, impossible date…). */
export function parseDciTimestamp(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = DATE_TIME.exec(value);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second! > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! > daysInMonth) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Now (or `at`) as the spec writes timestamps: UTC, milliseconds, `Z`. */
export function dciTimestamp(at: Date = new Date()): string {
  return at.toISOString();
}

export function ackOf(correlationId: string, status: AckStatus = 'ACK', error?: { code: DciErrorCode; message?: string }): DciAck {
  return { message: { ack_status: status, timestamp: dciTimestamp(), correlation_id: correlationId, ...(error ? { error: { code: error.code, ...(error.message ? { message: error.message.slice(0, 999) } : {}) } } : {}) } };
}

export function httpErrorsOf(code: string, message: string): DciHttpErrors {
  return { errors: [{ code, message: message.slice(0, 999) }] };
}
