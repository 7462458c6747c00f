/**
 * `GET /metrics` on the admin listener: the gateway's registry in Prometheus text format
 * (version 0.0.4), as Kong's prometheus plugin serves it on Kong's Admin API. Registered in the
 * Admin API's route table (`src/admin/routes.ts`).
 */
import { AdminError } from '../admin/errors.ts';
import type { AdminRoute } from '../admin/types.ts';

export const metricsRoutes: readonly AdminRoute[] = [
  {
    method: 'GET',
    pattern: '/metrics',
    handler: async ({ deps }) => {
      if (deps.metrics === undefined) throw new AdminError('NOT_FOUND', { message: 'Metrics are off on this node (metrics = off)' });
      return { status: 200, text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType };
    },
  },
];
