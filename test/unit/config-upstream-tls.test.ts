import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { testPki } from '../helpers/tls.ts';
import { errorsOf, snapshot } from './config-test-registry.ts';

const pki = testPki();
const CA_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const CERT_ID = '2b3c4d5e-6f70-4c8d-9eaf-102132435465';
const MISSING = '9e9e9e9e-9e9e-4e9e-8e9e-9e9e9e9e9e9e';
const pem = (text: string): string => JSON.stringify(text);

const client = pki.client('gateway');
const entities = `ca_certificates:
- id: ${CA_ID}
  cert: ${pem(pki.ca.cert)}
  tags: [internal]
certificates:
- id: ${CERT_ID}
  cert: ${pem(client.cert)}
  key: ${pem(client.key)}
`;

describe('service upstream TLS fields', () => {
  it('resolves client_certificate, ca_certificates and tls_verify_depth on an https service', () => {
    const s = snapshot(`_format_version: "3.0"
${entities}services:
- name: secure
  url: https://api.internal
  tls_verify: true
  tls_verify_depth: 2
  ca_certificates: [${CA_ID.toUpperCase()}]
  client_certificate: { id: ${CERT_ID} }
`);
    const service = [...s.services.values()][0]!;
    assert.equal(service.tls_verify, true);
    assert.equal(service.tls_verify_depth, 2);
    assert.deepEqual(service.ca_certificates, [CA_ID]);
    assert.equal(service.client_certificate, CERT_ID);
    const ca = s.ca_certificates.get(CA_ID);
    assert.equal(ca?.cert_digest, new X509Certificate(pki.ca.cert).fingerprint256.replace(/:/g, '').toLowerCase());
    assert.deepEqual(ca?.tags, ['internal']);
  });

  it('accepts client_certificate as a bare id (wss service)', () => {
    const s = snapshot(`_format_version: "3.0"\n${entities}services:\n- { name: w, url: "wss://ws.internal", client_certificate: ${CERT_ID} }\n`);
    assert.equal([...s.services.values()][0]?.client_certificate, CERT_ID);
  });

  it('rejects unknown certificate and ca_certificate ids with their paths', () => {
    const errors = errorsOf(`_format_version: "3.0"
${entities}services:
- name: s
  url: https://api.internal
  ca_certificates: [${CA_ID}, ${MISSING}]
  client_certificate: { id: ${MISSING} }
`);
    assert.deepEqual(errors.map((e) => e.replace(/^kong\.yml:\d+:\d+: /, '')), [
      `services[0].ca_certificates[1] (service "s"): invalid reference 'ca_certificates: ${MISSING}' (no such entry in 'ca_certificates')`,
      `services[0].client_certificate (service "s"): invalid reference 'client_certificate: ${MISSING}' (no such entry in 'certificates')`,
    ]);
  });

  it('rejects the TLS fields on a plain http service', () => {
    const errors = errorsOf(`_format_version: "3.0"
${entities}services:
- name: plain
  url: http://api.internal
  tls_verify_depth: 1
  ca_certificates: [${CA_ID}]
  client_certificate: { id: ${CERT_ID} }
`);
    for (const field of ['tls_verify_depth', 'ca_certificates', 'client_certificate']) {
      assert.ok(
        errors.some((e) => e.includes(`services[0].${field} (service "plain"): '${field}' can only be set when 'protocol' is 'https', 'grpcs', 'tls' or 'wss'`)),
        `${field} refused: ${errors.join('\n')}`,
      );
    }
  });

  it('rejects a tls_verify_depth out of 0..64 and a ca_certificates entry that is not a UUID', () => {
    const errors = errorsOf(`_format_version: "3.0"\nservices:\n- { name: s, url: "https://a.internal", tls_verify_depth: 65, ca_certificates: [not-a-uuid] }\n`);
    assert.ok(errors.some((e) => e.includes('services[0].tls_verify_depth')), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('services[0].ca_certificates[0]')), errors.join('\n'));
  });
});

describe('ca_certificates entity', () => {
  const reject = (cert: string): string[] => errorsOf(`_format_version: "3.0"\nca_certificates:\n- cert: ${pem(cert)}\n`);

  it('derives a stable id from the certificate and replaces a written cert_digest', () => {
    const text = `_format_version: "3.0"\nca_certificates:\n- { cert: ${pem(pki.ca.cert)}, cert_digest: "stale" }\n`;
    const [first] = [...snapshot(text).ca_certificates.values()];
    const [second] = [...snapshot(text).ca_certificates.values()];
    assert.equal(first?.id, second?.id);
    assert.match(first?.cert_digest ?? '', /^[0-9a-f]{64}$/);
  });

  it('refuses a certificate that is not a CA', () => {
    assert.match(reject(client.cert).join('\n'), /ca_certificates\[0\]\.cert: certificate does not appear to be a CA because it is missing the "CA" basic constraint/);
  });

  it('refuses more than one certificate', () => {
    assert.match(reject(pki.ca.cert + pki.otherCa.cert).join('\n'), /ca_certificates\[0\]\.cert: please submit only one certificate at a time/);
  });

  it('refuses an expired certificate and text that is no PEM', () => {
    assert.match(reject(pki.server(['old.test'], { expired: true }).cert).join('\n'), /certificate expired, "Not After" time is in the past/);
    assert.match(reject('hello').join('\n'), /ca_certificates\[0\]\.cert: invalid certificate: not a PEM-encoded X\.509 certificate/);
  });

  it('refuses the same CA twice (cert_digest is unique)', () => {
    const errors = errorsOf(`_format_version: "3.0"\nca_certificates:\n- id: ${CA_ID}\n  cert: ${pem(pki.ca.cert)}\n- id: ${MISSING}\n  cert: ${pem(pki.ca.cert)}\n`);
    assert.match(errors.join('\n'), /ca_certificates\[1\]\.cert: uniqueness violation: duplicate 'ca_certificates' entity with cert_digest/);
  });
});
