import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { findJob } from './job-queue.js';

/** Background jobs as an API resource: state, progress, counts and result of bulk work. */
export function jobRoutes(db: Db) {
  return (app: FastifyInstance) => {
    app.get('/api/v2/Job/:id', {
      config: { scope: 'job:read' },
      schema: { tags: ['Job'], summary: 'State and progress of a background job', params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }) },
    }, async (request) => {
      const { id } = request.params as { id: string };
      const job = await findJob(db, id);
      if (!job) throw AppError.notFound(`Job ${id}`);
      return job;
    });
  };
}
