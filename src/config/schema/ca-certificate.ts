import { Type } from '@sinclair/typebox';
import { BaseFields, entity } from './common.ts';

/**
 * Kong's `ca_certificates`: one PEM CA certificate per entity, referenced by id from a
 * service's `ca_certificates` to verify that service's upstream. `cert_digest` (hex SHA-256 of
 * the DER certificate) is computed on load as Kong's DAO does; a value written in the file
 * (`kong config db_export` writes one) is accepted and replaced.
 *
 * ```yaml
 * ca_certificates:
 * - id: 0f6c1d2e-8a3b-4c5d-9e7f-102132435465
 *   cert: |
 *     -----BEGIN CERTIFICATE-----
 *     ...
 * ```
 */
export const CaCertificateEntity = entity(
  'ca_certificate',
  {
    ...BaseFields,
    cert: Type.String({ minLength: 1 }),
    cert_digest: Type.Optional(Type.String({ minLength: 1 })),
  },
  {},
);

export const CaCertificateSchema = CaCertificateEntity.schema;
