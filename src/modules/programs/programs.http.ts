import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';

const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json']);

/** A merge patch means nothing in another media type (the server also parses forms). */
export async function assertJsonBody(request: FastifyRequest): Promise<void> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!PATCH_TYPES.has(type)) throw new AppError('unsupported_media_type', 'Send the change as application/merge-patch+json (or application/json)');
}
