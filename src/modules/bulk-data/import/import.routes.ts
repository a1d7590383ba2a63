import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { AppError } from '../../../platform/errors.js';
import type { ImportRequest, ImportService, StoredUpload } from './import.service.js';
import { MappingDocument } from './import.mapping.js';
import { formatOf } from './import.readers.js';

export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;
const SCOPE = 'individual:write';

const MappingName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' });
const MappingInput = Type.Object({
  name: MappingName,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  mapping: MappingDocument,
}, { additionalProperties: false });
const MappingReplace = Type.Object({
  description: Type.Optional(Type.String({ maxLength: 500 })),
  mapping: MappingDocument,
}, { additionalProperties: false });
const NameParams = Type.Object({ name: MappingName }, { additionalProperties: false });
const JobParams = Type.Object({ jobId: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

/**
 * Bulk import as an asynchronous operation: POST a file (multipart) and get 202 with the job;
 * `GET /api/v2/Job/:id` shows progress and counts; the per-row report is a CSV for the creator.
 * Saved mappings are a small resource of their own.
 */
export function importRoutes(imports: ImportService) {
  return async (app: FastifyInstance) => {
    // Only these routes take multipart bodies; the file streams to the job file store, never to memory.
    await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, fieldSize: 1024 * 1024 } });

    app.post('/api/v2/$import', {
      config: { scope: SCOPE },
      schema: {
        tags: ['Import'],
        summary: 'Import individuals (and households) from a CSV or XLSX file',
        description: 'multipart/form-data: `file` (CSV or XLSX, at most 200 MB), and optionally `mapping` (the name of a saved mapping) or `mappingDocument` (a mapping as JSON). '
          + 'Without either, columns whose header is a field name are imported. Answers 202 with the job; the job\'s result has the counts.',
        consumes: ['multipart/form-data'],
      },
    }, async (request, reply) => {
      if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Send the file as multipart/form-data with a "file" part');
      const fields: ImportRequest = {};
      let upload: StoredUpload | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'field') {
            if (part.fieldname === 'mapping') fields.mapping = String(part.value);
            else if (part.fieldname === 'mappingDocument') fields.mappingDocument = parseJson(String(part.value));
            else throw AppError.validation(`Unknown form field "${part.fieldname}" (expected file, mapping, mappingDocument)`, [{ path: `/${part.fieldname}`, message: 'is not a known field' }]);
            continue;
          }
          if (part.fieldname !== 'file' || upload) throw AppError.validation('Send exactly one file, in the form field "file"', [{ path: `/${part.fieldname}`, message: 'is not expected' }]);
          const format = formatOf(part.filename, part.mimetype);
          if (!format) throw new AppError('unsupported_media_type', `"${part.filename}" is neither a CSV (.csv, text/csv) nor an XLSX (.xlsx) file`);
          // Fields sent before the file are checked before a large file is stored in vain.
          if (fields.mapping !== undefined || fields.mappingDocument !== undefined) await imports.resolveMapping(fields);
          upload = await imports.storeUpload(request.actor, part.file, { fileName: part.filename, contentType: part.mimetype, format });
        }
        if (!upload) throw AppError.validation('The form has no "file"', [{ path: '/file', message: 'is required' }]);
        const job = await imports.start(request.actor, upload, fields);
        return reply.code(202).header('location', `/api/v2/Job/${job.id}`).send(job);
      } catch (error) {
        if (upload) await imports.discardUpload(upload.fileId);
        throw error;
      }
    });

    app.get('/api/v2/$import/:jobId/problems.csv', {
      config: { scope: SCOPE },
      schema: { tags: ['Import'], summary: 'The per-row problems of an import as CSV (row, column, value, reason); only the client that started it', params: JobParams },
    }, async (request, reply) => {
      const { jobId } = request.params as { jobId: string };
      const stream = await imports.openProblems(request.actor, jobId);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="import-${jobId}-problems.csv"`).send(stream);
    });

    app.get('/api/v2/ImportMapping', {
      config: { scope: SCOPE },
      schema: { tags: ['Import'], summary: 'Saved import mappings' },
    }, async () => imports.mappings.list());

    app.post('/api/v2/ImportMapping', {
      config: { scope: SCOPE },
      schema: { tags: ['Import'], summary: 'Save a named import mapping', body: MappingInput },
    }, async (request, reply) => {
      const view = await imports.mappings.create(request.actor.id, request.body as { name: string; description?: string; mapping: unknown });
      return reply.code(201).header('location', `/api/v2/ImportMapping/${view.name}`).send(view);
    });

    app.get('/api/v2/ImportMapping/:name', {
      config: { scope: SCOPE },
      schema: { tags: ['Import'], summary: 'A saved import mapping', params: NameParams },
    }, async (request) => imports.mappings.get((request.params as { name: string }).name));

    app.put('/api/v2/ImportMapping/:name', {
      config: { scope: SCOPE },
      schema: { tags: ['Import'], summary: 'Create or replace a saved import mapping', params: NameParams, body: MappingReplace },
    }, async (request, reply) => {
      const { view, created } = await imports.mappings.put(request.actor.id, (request.params as { name: string }).name, request.body as { description?: string; mapping: unknown });
      if (created) reply.code(201).header('location', `/api/v2/ImportMapping/${view.name}`);
      return reply.send(view);
    });
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw AppError.validation('mappingDocument is not valid JSON', [{ path: '/mappingDocument', message: 'is not valid JSON' }]);
  }
}
