import type { FastifyInstance } from 'fastify';
import { httpErrorsOf } from '../protocol/index.js';
import { AppError, httpStatusOf } from '../../../platform/errors.js';
import { CALLBACK_MESSAGES, type DciCallbacks } from './callbacks.js';

/** Where registries call us back: `{prefix}/client/registry/{on-search|on-subscribe|on-unsubscribe|notify|txn/on-status}`. */
export const CALLBACK_BASE = '/client';

export function callbackPathOf(action: string): string {
  return `/registry/${action === 'txn-on-status' ? 'txn/on-status' : action}`;
}

/** The callback endpoints (scope dci:callback: the API client of a data source). Answers are the spec's ACK / ERR. */
export function dciCallbackRoutes(prefix: string, callbacks: DciCallbacks) {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => {
      app.setErrorHandler((error, _request, reply) => {
        const status = error instanceof AppError ? httpStatusOf(error.code) : (error as { statusCode?: number }).statusCode ?? 500;
        void reply.code(status).send(httpErrorsOf(status === 401 ? 'err.request.unauthorized' : status === 403 ? 'err.request.forbidden' : status < 500 ? 'err.request.bad' : 'err.service.unavailable', error instanceof Error ? error.message : String(error)));
      });
      for (const action of Object.keys(CALLBACK_MESSAGES)) {
        app.post(`${CALLBACK_BASE}${callbackPathOf(action)}`, {
          config: { scope: 'dci:callback' },
          schema: {
            tags: ['dci'],
            summary: `DCI client: ${action} callback from a registry we called (ACK; applied once)`,
            description: `Body: the signed DCI envelope with a ${CALLBACK_MESSAGES[action]} message, checked against the calling data source's spec (CRVS, IBR, DR or SR).`,
          },
        }, async (request, reply) => {
          const outcome = await callbacks.receive(request.actor, action, request.body);
          return reply.code(outcome.status).send(outcome.body);
        });
      }
    }, { prefix });
  };
}
