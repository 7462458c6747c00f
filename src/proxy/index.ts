/** The proxy's public API: header rules, client-IP resolution, balancing, health, upstream I/O. */
export type { UpstreamRequest, UpstreamResponse, HashInputs } from './types.ts';
export { HOP_BY_HOP, upstreamRequestHeaders, downstreamResponseHeaders, downstreamResponseHeaderList, serviceHostHeader } from './headers.ts';
export type { UpstreamHeaderInput, DownstreamHeaderOptions, HeaderList } from './headers.ts';
export { createTrustedIps, resolveClientIp, normalizeIp } from './trusted-ips.ts';
export type { TrustedIps } from './trusted-ips.ts';
export { createBalancer, computeHashKey, parseTarget, hash32 } from './balancer.ts';
export type { Balancer, Peer, HealthPredicate } from './balancer.ts';
export { createHealthChecker, DEFAULT_PROBE_INTERVAL_MS } from './health.ts';
export type { HealthChecker, HealthListener, HealthOptions, TargetHealth } from './health.ts';
export { createUpstreamClient } from './upstream-client.ts';
export type { UpstreamClient, UpstreamClientOptions, UpgradeClient, UpgradeResult } from './upstream-client.ts';
export { UpstreamCancel } from './cancel.ts';
export type { BodyFlow, ResponseSink, UpstreamResponseHead } from './exchange.ts';
export { toGatewayError } from './upstream-errors.ts';
export { openUpstreamUpgrade, relayUpgrade, writeUpgradeError } from './websocket.ts';
export type { UpgradeTarget, UpgradeOutcome } from './websocket.ts';
