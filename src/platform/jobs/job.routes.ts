import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { hasScope } from '../auth/access-tokens.js';
import { findJob } from './job-queue.js';

/**
 * Background jobs as an API resource: state, progress, counts and result of bulk work. The
 * client or user that started a job may always follow it; `job:read` allows following any job.
 * Anyone else gets 404, so job ids reveal nothing.
 */
export function jobRoutes(db: Db) {
  return (app: FastifyInstance) => {
    app.get('/api/v2/Job/:id', {
      config: { scopeCheckedByHandler: true },
      schema: { tags: ['Job'], summary: 'State and progress of a background job (its creator, or job:read)', params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }) },
    }, async (request) => {
      const { id } = request.params as { id: string };
      const job = await findJob(db, id);
      if (!job || (job.createdBy !== request.actor.id && !hasScope(request.actor.scopes, 'job:read'))) throw AppError.notFound(`Job ${id}`);
      return job;
    });
  };
}
