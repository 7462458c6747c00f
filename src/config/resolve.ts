import type { PluginRegistry } from '../plugins/registry.ts';
import type { Collected } from './collect.ts';
import type { ErrorSink } from './errors.ts';
import { resolveCaCertificates } from './resolve/ca-certificates.ts';
import { resolveCertificates } from './resolve/certificates.ts';
import { resolveChannels } from './resolve/channels.ts';
import { resolveConsumers } from './resolve/consumers.ts';
import { createResolveContext } from './resolve/context.ts';
import { resolveCredentials } from './resolve/credentials.ts';
import { resolvePlugins } from './resolve/plugins.ts';
import { resolveRoutes } from './resolve/routes.ts';
import { resolveServices } from './resolve/services.ts';
import { resolveUpstreams } from './resolve/upstreams.ts';
import type { Snapshot } from './types.ts';

/**
 * Second pass of the loader: gives every entity its id, resolves foreign keys (nesting,
 * names, ids), enforces Kong's uniqueness and cross-field rules and builds the immutable
 * {@link Snapshot}. Every problem goes to the sink; the snapshot is only returned when
 * there were none (including the first pass's schema errors).
 */

export interface ResolveOptions {
  readonly sink: ErrorSink;
  readonly registry: PluginRegistry;
  /** `_transform`: hash basic-auth passwords as Kong does (SHA-1 of password ‖ consumer id). */
  readonly transform: boolean;
  readonly hash: string;
}

export function resolveSnapshot(collected: Collected, options: ResolveOptions): Snapshot | undefined {
  const { sink } = options;
  const ctx = createResolveContext(sink);
  // Order matters: an entity can only refer to kinds resolved before it (routes → services,
  // plugins → services, routes and consumers, credentials → consumers, services → certificates
  // and ca_certificates).
  const certificates = resolveCertificates(collected.certificates, collected.snis, ctx);
  const caCertificates = resolveCaCertificates(collected.caCertificates, ctx);
  const services = resolveServices(collected.services, { certificates: certificates.index, caCertificates: caCertificates.index }, ctx);
  const upstreams = resolveUpstreams(collected.upstreams, collected.targets, ctx);
  const consumers = resolveConsumers(collected.consumers, ctx);
  const routes = resolveRoutes(collected.routes, services.index, ctx);
  const plugins = resolvePlugins(collected.plugins, { services: services.index, routes: routes.index, consumers: consumers.index }, options.registry, ctx);
  const credentials = resolveCredentials(collected.credentials, consumers.index, options.transform, ctx);
  const channels = resolveChannels(collected.channels, ctx);

  if (sink.errors.length > 0) return undefined;
  return {
    services: services.services,
    routes: routes.routes,
    consumers: consumers.consumers,
    plugins,
    upstreams,
    certificates: certificates.certificates,
    snis: certificates.snis,
    ca_certificates: caCertificates.caCertificates,
    credentials,
    channels,
    hash: options.hash,
  };
}
