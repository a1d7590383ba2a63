import crypto from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { FieldCipher, keyVersionOf } from '../crypto/field-cipher.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { idempotencyKeys } from './idempotency.tables.js';

const KEY_PATTERN = /^[\w.:-]{1,200}$/;
const RETENTION_HOURS = 24;
const ABANDONED_AFTER_MS = 5 * 60_000;

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyKey?: string;
  }
}

/**
 * `Idempotency-Key` on POST: the first request with a key runs and its response is kept; a retry
 * with the same key and the same body gets that response again (header `Idempotent-Replayed: true`)
 * and writes nothing. The same key with a different body is refused. 5xx responses are not kept,
 * so the client can retry them. Keys are per client and kept for 24 hours. With `keys`, the kept
 * responses (which may hold personal data) are stored encrypted, bound to their client and key.
 */
export function registerIdempotency(app: FastifyInstance, db: Db, keys?: KeyRing): void {
  const cipher = keys ? new FieldCipher(keys) : undefined;
  const context = (clientId: string, key: string) => ({ table: 'idempotency_keys', column: 'response_body', record: `${clientId}:${key}` });
  const seal = (body: string, clientId: string, key: string) => (cipher ? cipher.encrypt(body, context(clientId, key)) : body);
  const open = async (stored: string | null, clientId: string, key: string) => {
    const version = stored === null ? undefined : keyVersionOf(stored);
    if (!cipher || !keys || version === undefined) return stored; // kept in clear (no keys, or before encryption)
    await keys.ensureVersions([version]);
    return cipher.decrypt(stored!, context(clientId, key));
  };
  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined || !request.actor) return;
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
      throw AppError.validation('Idempotency-Key must be 1 to 200 letters, digits or ._:-', [{ path: 'header:Idempotency-Key', message: 'is not valid' }]);
    }
    const clientId = request.actor.id;
    const requestHash = hashRequest(request);
    const inserted = await db.insert(idempotencyKeys).values({ clientId, key, requestHash }).onConflictDoNothing().returning();
    if (inserted.length > 0) {
      request.idempotencyKey = key;
      return;
    }
    const [existing] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.clientId, clientId), eq(idempotencyKeys.key, key)));
    if (!existing) throw new AppError('conflict', 'The Idempotency-Key was released while this request arrived; retry it');
    if (existing.requestHash !== requestHash) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request; use a new key for a new request');
    }
    if (existing.statusCode === null) {
      // A first attempt that never finished (its process died) is abandoned after a while, so the key can be retried.
      const abandoned = existing.createdAt.getTime() < Date.now() - ABANDONED_AFTER_MS;
      const retaken = abandoned && (await db.update(idempotencyKeys).set({ createdAt: new Date() })
        .where(and(eq(idempotencyKeys.clientId, clientId), eq(idempotencyKeys.key, key), eq(idempotencyKeys.createdAt, existing.createdAt))).returning()).length > 0;
      if (!retaken) throw new AppError('conflict', 'A request with this Idempotency-Key is still being processed; retry shortly');
      request.idempotencyKey = key;
      return;
    }
    reply.code(existing.statusCode).headers({ ...(existing.responseHeaders ?? {}), 'idempotent-replayed': 'true' });
    return reply.send(await open(existing.responseBody, clientId, key));
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.idempotencyKey;
    if (!key) return payload;
    const where = and(eq(idempotencyKeys.clientId, request.actor.id), eq(idempotencyKeys.key, key));
    if (reply.statusCode >= 500) {
      await db.delete(idempotencyKeys).where(where);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'location', 'etag']) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    await db.update(idempotencyKeys)
      .set({ statusCode: reply.statusCode, responseHeaders: headers, responseBody: seal(typeof payload === 'string' ? payload : JSON.stringify(payload ?? null), request.actor.id, key) })
      .where(where);
    return payload;
  });
}

export async function purgeExpiredIdempotencyKeys(db: Db): Promise<void> {
  await db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, new Date(Date.now() - RETENTION_HOURS * 3600_000)));
}

function hashRequest(request: FastifyRequest): string {
  return crypto.createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex');
}
