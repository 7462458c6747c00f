import { after, before } from 'node:test';
import { loadDeclarativeConfig, formatConfigError } from '../../src/config/load.ts';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createBundledRegistry, type PluginRegistry } from '../../src/plugins/registry.ts';
import type { Snapshot } from '../../src/config/types.ts';
import { startEchoServer, type TestServer } from './servers.ts';

/** Loads kong.yml text or throws with every error formatted; for tests. */
export function snapshotFrom(yaml: string, registry: PluginRegistry = createBundledRegistry()): Snapshot {
  const result = loadDeclarativeConfig(yaml, { filename: 'test.yml', registry });
  if (!result.ok) throw new Error(result.errors.map(formatConfigError).join('\n'));
  return result.snapshot;
}

/** The JSON body the gateway answers a refusal with (Kong's shape). */
export interface ErrorBody {
  message: string;
  request_id: string;
}

export interface TestGateway {
  readonly gateway: Gateway;
  readonly proxyPort: number;
  readonly proxyUrl: string;
  readonly adminUrl: string;
  close(): Promise<void>;
}

/** A gateway on 127.0.0.1:0 (proxy and admin; internal off) running the given kong.yml. */
export async function startGateway(yaml: string, overrides: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const registry = overrides.registry ?? createBundledRegistry();
  const gateway = await Gateway.start({
    registry,
    listen: { proxy: [{ host: '127.0.0.1', port: 0 }], admin: [{ host: '127.0.0.1', port: 0 }], internal: [], status: [] },
    internalAccess: { allow: ['127.0.0.1/32', '::1/128'] },
    snapshot: snapshotFrom(yaml, registry),
    trustedIps: [],
    realIpHeader: 'x-real-ip',
    realIpRecursive: false,
    maxHeaderSize: 16 * 1024,
    clientMaxBodySize: 0,
    drainTimeoutMs: 2000,
    logger: silentLogger(),
    ...overrides,
  });
  const proxy = gateway.addresses.proxy[0] ?? '';
  const admin = gateway.addresses.admin[0] ?? '';
  return {
    gateway,
    proxyPort: Number(proxy.split(':').pop()),
    proxyUrl: `http://${proxy}`,
    adminUrl: `http://${admin}`,
    close: () => gateway.stop(),
  };
}

/** A gateway with the internal listener on too (publisher API), all on 127.0.0.1:0. */
export async function startGatewayWithInternal(yaml: string, overrides: Partial<GatewayOptions> = {}): Promise<TestGateway & { readonly internalUrl: string }> {
  const loopback = [{ host: '127.0.0.1', port: 0 }];
  const gw = await startGateway(yaml, { listen: { proxy: loopback, admin: loopback, internal: loopback, status: [] }, ...overrides });
  return { ...gw, internalUrl: `http://${gw.gateway.addresses.internal[0]}` };
}

/** What useEchoGateway hands a describe block; read its properties only inside tests and hooks. */
export interface EchoGateway<G extends TestGateway = TestGateway> {
  /** The gateway running `yaml(echo.url)`. */
  readonly gw: G;
  /** The echo upstream the config points at. */
  readonly echo: TestServer;
}

/**
 * For a describe block: an echo upstream and a gateway running `yaml(upstreamUrl)`, started in
 * before() and closed in after(). The properties are set in before(), so they are only valid
 * inside tests and later hooks: keep the handle (`const ctx = useEchoGateway(...)`) and read
 * `ctx.gw` there; destructuring it at describe time throws.
 */
export function useEchoGateway(yaml: (upstreamUrl: string) => string, overrides: Partial<GatewayOptions> = {}): EchoGateway {
  return useEchoUpstream((upstreamUrl) => startGateway(yaml(upstreamUrl), overrides));
}

/** useEchoGateway with any gateway starter (an h2 listener, say): `start` gets the echo upstream's URL. */
export function useEchoUpstream<G extends TestGateway>(start: (upstreamUrl: string) => Promise<G>): EchoGateway<G> {
  let echo: TestServer | undefined;
  let gw: G | undefined;
  before(async () => {
    echo = await startEchoServer();
    gw = await start(echo.url);
  });
  after(async () => {
    await gw?.close();
    await echo?.close();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`useEchoGateway: ${name} is only set once before() has run; read it inside a test`);
    return value;
  };
  return {
    get gw() {
      return started(gw, 'gw');
    },
    get echo() {
      return started(echo, 'echo');
    },
  };
}
