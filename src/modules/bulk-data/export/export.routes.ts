import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { ExportRequest, ExportService } from './export.service.js';

const SearchValue = Type.Union([Type.String({ maxLength: 300 }), Type.Array(Type.String({ maxLength: 300 }), { maxItems: 4 })]);
const ExportInput = Type.Object({
  resourceType: Type.String({ enum: ['Individual', 'Group'] }),
  search: Type.Optional(Type.Record(Type.String(), SearchValue, {
    description: 'The search parameters of GET /api/v2/{resourceType} as strings (repeatable ones as arrays), without _count, _sort, _cursor, _total',
  })),
}, { additionalProperties: false });
const ExportParams = Type.Object({ jobId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/**
 * Bulk export as an asynchronous operation: POST starts a job (202 + Location of the job), the job's
 * resource shows progress, and the creator downloads the CSV when it has succeeded. The scope needed
 * (individual:read or group:read) depends on the resource type, so the handlers check it.
 */
export function exportRoutes(exports: ExportService) {
  return (app: FastifyInstance) => {
    app.post('/api/v2/$export', {
      config: { scopeCheckedByHandler: true },
      schema: { tags: ['Export'], summary: 'Start a CSV export of every individual or group matching a search', body: ExportInput },
    }, async (request, reply) => {
      const job = await exports.start(request.actor, request.body as ExportRequest);
      return reply.code(202).header('location', `/api/v2/Job/${job.id}`).send(job);
    });

    app.get('/api/v2/$export/:jobId/file', {
      config: { scopeCheckedByHandler: true },
      schema: { tags: ['Export'], summary: 'Download the CSV of a finished export (only the client that started it)', params: ExportParams },
    }, async (request, reply) => {
      const { jobId } = request.params as { jobId: string };
      const { file, stream } = await exports.openFile(request.actor, jobId);
      return reply
        .type(file.contentType)
        .header('content-length', file.sizeBytes)
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .send(stream);
    });
  };
}
