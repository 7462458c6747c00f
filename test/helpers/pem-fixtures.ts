/**
 * Config fixtures that need certificates name them with placeholders, filled at test time from
 * the throwaway PKI (`testPki()`), so no private key is ever committed. A placeholder stands
 * alone on its line; the PEM replaces it at the same indentation (inside a YAML block scalar).
 *
 *   `{{pem:example.com.cert}}` / `{{pem:example.com.key}}`: an RSA server certificate for the name;
 *   `{{pem:example.com:ec.cert}}`: an ECDSA (P-256) one. The same placeholder gives the same PEM.
 *
 * @example
 *   const yaml = withTestPems(readFileSync('test/fixtures/config/valid/10-certificates-snis.yml', 'utf8'));
 */
import { testPki, type Pem } from './tls.ts';

const PLACEHOLDER = /^( *)\{\{pem:([a-z0-9.*-]+?)(:ec)?\.(cert|key)\}\}$/gm;
const made = new Map<string, Pem>();

export function withTestPems(text: string): string {
  return text.replace(PLACEHOLDER, (_line, indent: string, name: string, ec: string | undefined, part: 'cert' | 'key') => {
    const id = `${name}${ec ?? ''}`;
    let pem = made.get(id);
    if (pem === undefined) made.set(id, (pem = testPki().server([name], ec ? { keyType: 'ec' } : {})));
    return pem[part].trimEnd().split('\n').map((line) => `${indent}${line}`).join('\n');
  });
}
