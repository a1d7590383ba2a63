import type { FastifyInstance } from 'fastify';
import { Bundle } from './bundle.schemas.js';
import type { BundleService } from './bundles.service.js';
import { CONSENT_STATUS_HEADER } from '../consents/consent-filter.js';

export function bundleRoutes(bundles: BundleService) {
  return (app: FastifyInstance) => {
    // Any authenticated client may send a bundle; each entry checks the scope of its own operation.
    app.post('/api/v2/$batch', {
      config: { scopeCheckedByHandler: true },
      schema: {
        tags: ['Bundle'],
        summary: 'Several registry writes in one request: transaction (all or nothing) or batch (each on its own)',
        body: Bundle,
      },
    }, async (request, reply) => {
      // Registrant records in the response are consent-filtered and masked as on a read.
      const { body, consentStatus } = await bundles.processAndRelease(
        { actor: request.actor, requestId: String(request.id) },
        request.body as Bundle,
        (error, index) => request.log.error({ err: error, entry: index }, 'unhandled error in a batch entry'),
      );
      return reply.header(CONSENT_STATUS_HEADER, consentStatus).send(body);
    });
  };
}
