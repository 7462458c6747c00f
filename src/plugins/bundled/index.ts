import type { PluginDefinition } from '../contract.ts';
import { plugin as jwt } from './jwt/index.ts';
import { plugin as keyAuth } from './key-auth/index.ts';
import { plugin as basicAuth } from './basic-auth/index.ts';
import { plugin as acl } from './acl/index.ts';
import { plugin as cors } from './cors/index.ts';
import { plugin as correlationId } from './correlation-id/index.ts';
import { plugin as requestTermination } from './request-termination/index.ts';
import { plugin as requestTransformer } from './request-transformer/index.ts';
import { plugin as responseTransformer } from './response-transformer/index.ts';
import { plugin as ipRestriction } from './ip-restriction/index.ts';
import { plugin as rateLimiting } from './rate-limiting/index.ts';
import { plugin as requestSizeLimiting } from './request-size-limiting/index.ts';
import { plugin as botDetection } from './bot-detection/index.ts';
import { plugin as pubsubSubscriber } from './pubsub-subscriber/index.ts';
import { plugin as pubsubPublisher } from './pubsub-publisher/index.ts';

/**
 * Every bundled plugin, one folder each (`<name>/schema.ts`, `<name>/handler.ts`,
 * `<name>/index.ts` exporting `plugin`). `plugins = bundled` enables all of them.
 */
export const BUNDLED_PLUGINS: readonly PluginDefinition[] = [jwt, keyAuth, basicAuth, acl, cors, correlationId, requestTermination, requestTransformer, responseTransformer, ipRestriction, rateLimiting, requestSizeLimiting, botDetection, pubsubSubscriber, pubsubPublisher];
