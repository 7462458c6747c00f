import { Type } from '@sinclair/typebox';
import { BaseFields, entity, ForeignRef, ListOf } from './common.ts';

/** Certificates (PEM cert + key, optional alternate pair) and the SNIs that select them. */

const SniFields = { ...BaseFields, name: Type.String({ minLength: 1 }) };

/** Nested under a certificate: a bare name or `{name, ...}`. */
export const CertificateSniEntity = entity('sni (nested in a certificate)', SniFields, {});
export const SniEntity = entity('sni', { ...SniFields, certificate: ForeignRef }, {});

export const CertificateEntity = entity(
  'certificate',
  {
    ...BaseFields,
    cert: Type.String({ minLength: 1 }),
    key: Type.String({ minLength: 1 }),
    cert_alt: Type.Optional(Type.String({ minLength: 1 })),
    key_alt: Type.Optional(Type.String({ minLength: 1 })),
  },
  { snis: ListOf(Type.Union([Type.String({ minLength: 1 }), CertificateSniEntity.schema])) },
);

export const CertificateSchema = CertificateEntity.schema;
export const SniSchema = SniEntity.schema;
