/**
 * `npm run token`: a JWT for the quickstart's `demo` consumer (HS256, `iss: demo-iss`, valid
 * one hour), signed with the secret in examples/kong.yml. For the demo only.
 */
import { createHmac } from 'node:crypto';

const secret = 'demo-secret-change-me';
const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = { iss: 'demo-iss', sub: 'demo', exp: Math.floor(Date.now() / 1000) + 3600 };
const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
process.stdout.write(`${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}\n`);
