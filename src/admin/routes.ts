import { metricsRoutes } from '../observability/metrics-endpoint.ts';
import { configRoutes } from './config-endpoint.ts';
import { entityRoutes } from './entity-routes.ts';
import { nodeRoutes } from './node-info.ts';
import { schemaRoutes } from './schemas.ts';
import type { AdminRoute } from './types.ts';

/**
 * The Admin API's route table. Adding endpoints is one line: export an `AdminRoute[]` from the
 * file that implements them and spread it here (order does not matter: the router ranks static
 * segments over parameters by itself). `GET /endpoints` lists whatever is registered.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...nodeRoutes,
  ...entityRoutes,
  ...schemaRoutes,
  ...configRoutes,
  ...metricsRoutes,
];
