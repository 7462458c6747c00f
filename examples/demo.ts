/**
 * `npm start`: the quickstart. Runs the example upstream on 127.0.0.1:9009, then the gateway
 * on the embedded defaults with `examples/kong.yml`. Extra arguments go to `sluice start`.
 */
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.ts';
import { startExampleUpstream } from './upstream.ts';

const { server, address } = await startExampleUpstream();
process.stderr.write(`example upstream on http://${address}\n`);
const config = fileURLToPath(new URL('./kong.yml', import.meta.url));
const hasConfig = process.argv.slice(2).some((arg) => arg === '-c' || arg.startsWith('--config'));
const code = await main([process.argv[0] ?? 'node', 'sluice', 'start', ...(hasConfig ? [] : ['-c', config]), ...process.argv.slice(2)]);
server.close();
server.closeAllConnections();
process.exitCode = code;
