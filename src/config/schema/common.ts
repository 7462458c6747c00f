import { Type, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

/**
 * Building blocks shared by the declarative entity schemas. Every entity is a closed object
 * (`additionalProperties: false`) so a misspelt field is an error, never silently ignored,
 * and every entity accepts Kong's free-form `_comment`.
 */

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'UUID; derived from the entity key when omitted' });
export const Tags = Type.Array(Type.String({ minLength: 1 }), { default: [] });
export const Comment = Type.String({ description: 'free-form note, ignored' });

/** Kong's integer ranges (timeouts are 1 .. 2^31-2 ms). */
export const Port = Type.Integer({ minimum: 0, maximum: 65535 });
export const Timeout = Type.Integer({ minimum: 1, maximum: 2147483646, default: 60000 });

/** `'a' | 'b'` as a TypeBox union of literals. */
export function OneOf<const T extends readonly (string | number)[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

export const PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] as const;
export const Protocol = OneOf(PROTOCOLS);

/**
 * A foreign key as Kong's declarative format accepts it: the parent's name (or username),
 * its id, or `{id: ...}` as `kong config db_export` writes it.
 */
export const ForeignRef = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

/** Fields every entity has. */
export const BaseFields = {
  id: Type.Optional(Uuid),
  tags: Type.Optional(Tags),
  _comment: Type.Optional(Comment),
} satisfies TProperties;

/**
 * One entity in two shapes: `schema` with nested children typed (what the Admin API serves
 * as JSON Schema) and `shallow` with children left as unknown arrays, which the loader uses
 * to validate each entity on its own so one bad route does not hide errors in its siblings.
 */
export interface EntitySchemas<F extends TProperties, C extends TProperties> {
  readonly schema: TObject<F & C>;
  readonly shallow: TObject<F>;
  readonly children: readonly (keyof C & string)[];
}

export function entity<F extends TProperties, C extends TProperties>(
  title: string,
  fields: F,
  children: C,
): EntitySchemas<F, C> {
  const shallowChildren: TProperties = {};
  for (const key of Object.keys(children)) shallowChildren[key] = Type.Optional(Type.Array(Type.Unknown()));
  return {
    schema: Type.Object({ ...fields, ...children }, { additionalProperties: false, title }),
    shallow: Type.Object({ ...fields, ...shallowChildren } as F, { additionalProperties: false, title }),
    children: Object.keys(children),
  };
}

/** Optional array of `item`. */
export function ListOf(item: TSchema) {
  return Type.Optional(Type.Array(item));
}
