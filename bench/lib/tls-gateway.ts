/**
 * A gateway for `bench -- tls`, in its own process: one proxy listener in plain HTTP and one
 * `ssl http2` (ALPN h2 + http/1.1), the internal listener for publishing, the certificate from
 * files. Prints `{"event":"listening","listeners":{...}}` once bound; SIGTERM stops it.
 *
 *   node --import tsx bench/lib/tls-gateway.ts <kong.yml> <cert.pem> <key.pem>
 */
import { readFileSync } from 'node:fs';
import { loadDeclarativeConfig, formatConfigError } from '../../src/config/load.ts';
import { Gateway } from '../../src/gateway/gateway.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createBundledRegistry } from '../../src/plugins/registry.ts';

const [configPath, certPath, keyPath] = process.argv.slice(2);
if (configPath === undefined || certPath === undefined || keyPath === undefined) {
  console.error('usage: tls-gateway.ts <kong.yml> <cert.pem> <key.pem>');
  process.exit(2);
}
const registry = createBundledRegistry();
const loaded = loadDeclarativeConfig(readFileSync(configPath, 'utf8'), { filename: configPath, registry });
if (!loaded.ok) {
  console.error(loaded.errors.map(formatConfigError).join('\n'));
  process.exit(1);
}
const loopback = { host: '127.0.0.1', port: 0 };
const gateway = await Gateway.start({
  listen: { proxy: [loopback, { ...loopback, ssl: true, http2: true }], internal: [loopback], admin: [], status: [] },
  tls: { defaultCertificate: { cert: [readFileSync(certPath, 'utf8')], key: [readFileSync(keyPath, 'utf8')] } },
  internalAccess: { allow: ['127.0.0.1/32'] },
  snapshot: loaded.snapshot,
  registry,
  trustedIps: [],
  realIpHeader: 'x-real-ip',
  realIpRecursive: false,
  maxHeaderSize: 16 * 1024,
  clientMaxBodySize: 0,
  drainTimeoutMs: 1000,
  logger: silentLogger(),
  accessLog: false,
});
console.log(JSON.stringify({ event: 'listening', listeners: gateway.addresses }));
process.once('SIGTERM', () => void gateway.stop().then(() => process.exit(0)));
