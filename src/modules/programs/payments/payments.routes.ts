import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { contextOf, searchResult, sendAccepted } from '../programs.common.js';
import { BatchFileParams, BatchInput, BatchSearchQuery, IdParams, MarkPaidInput, PaymentSearchQuery, ReconcileInput } from '../programs.schemas.js';
import type { PaymentService } from './payments.service.js';

const tags = ['Payment'];
const read = { scope: 'payment:read' };
const write = { scope: 'payment:write' };

/** Payment batches (create, send, files, reconcile, retry) and payments (read, mark paid). */
export function paymentRoutes(paymentsService: PaymentService, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    const emptyBody = { preValidation: async (request: { body: unknown }) => { request.body ??= {}; } };

    app.post('/api/v2/Cycle/:id/payment-batches', { config: write, schema: { tags, summary: 'Create a payment batch of an approved cycle (filled by a background job)', params: IdParams, body: BatchInput } }, async (request, reply) => {
      const { batch, job } = await paymentsService.createBatch(contextOf(request), request.params.id, request.body);
      return sendAccepted(reply, job, { batch, job });
    });

    app.get('/api/v2/PaymentBatch', { config: read, schema: { tags, summary: 'A cycle\'s payment batches', querystring: BatchSearchQuery } },
      async (request) => searchResult(request, publicUrl, '/api/v2/PaymentBatch', await paymentsService.searchBatches(request.query)));

    app.get('/api/v2/PaymentBatch/:id', { config: read, schema: { tags, summary: 'Read a payment batch with counts and totals by state', params: IdParams } },
      async (request) => paymentsService.getBatch(request.params.id));

    app.post('/api/v2/PaymentBatch/:id/$send', { config: { scope: 'payment:approve' }, ...emptyBody, schema: { tags, summary: 'Send the pending payments to the provider, once (background job; the file provider writes CSV and pain.001)', params: IdParams } }, async (request, reply) => {
      const job = await paymentsService.send(contextOf(request), request.params.id);
      return sendAccepted(reply, job, { job });
    });

    app.get('/api/v2/PaymentBatch/:id/files/:jobId/:format', { config: read, schema: { tags, summary: 'Download a file written by a sending of the batch (csv or pain001)', params: BatchFileParams } }, async (request, reply) => {
      const { file, stream } = await paymentsService.openFile(request.params.id, request.params.jobId, request.params.format);
      return reply.type(file.contentType).header('content-length', file.sizeBytes).header('content-disposition', `attachment; filename="${file.fileName}"`).send(stream);
    });

    app.post('/api/v2/PaymentBatch/:id/$reconcile', { config: write, schema: { tags, summary: 'Import the provider\'s status file (all lines or none)', params: IdParams, body: ReconcileInput } },
      async (request) => paymentsService.reconcile(contextOf(request), request.params.id, request.body.content));

    app.post('/api/v2/PaymentBatch/:id/$poll', { config: write, ...emptyBody, schema: { tags, summary: 'HTTP provider: fetch the status of sent payments from the disbursement API and apply the settled ones', params: IdParams } },
      async (request) => paymentsService.poll(contextOf(request), request.params.id));

    app.post('/api/v2/PaymentBatch/:id/$retry-failed', { config: write, ...emptyBody, schema: { tags, summary: 'Put failed payments back to pending under a new idempotency key', params: IdParams } },
      async (request) => paymentsService.retryFailed(contextOf(request), request.params.id));

    app.get('/api/v2/Payment', { config: read, schema: { tags, summary: 'A batch\'s payments', querystring: PaymentSearchQuery } },
      async (request) => searchResult(request, publicUrl, '/api/v2/Payment', await paymentsService.searchPayments(request.query)));

    app.get('/api/v2/Payment/:id', { config: read, schema: { tags, summary: 'Read a payment', params: IdParams } }, async (request) => paymentsService.getPayment(request.params.id));

    app.get('/api/v2/Payment/:id/_history', { config: read, schema: { tags, summary: 'State changes of a payment', params: IdParams } },
      async (request) => ({ items: await paymentsService.paymentHistory(request.params.id) }));

    app.post('/api/v2/Payment/:id/$mark-paid', { config: write, schema: { tags, summary: 'Manual provider: mark paid with the receipt reference', params: IdParams, body: MarkPaidInput } },
      async (request) => paymentsService.markPaid(contextOf(request), request.params.id, request.body.reference));
  };
}
