import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Rebuilds a TypeBox schema from plain JSON Schema (what the Admin API sends over the wire:
 * JSON drops TypeBox's symbol tags), so tests can compile what `/schemas/...` served with
 * `TypeCompiler` and check documents against it. Throws on any keyword combination it does
 * not know: a served schema that is not plain JSON Schema fails the test.
 *
 * ```ts
 * const check = TypeCompiler.Compile(fromJsonSchema(await (await fetch(url)).json()));
 * ```
 */
export function fromJsonSchema(json: unknown): TSchema {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`not a schema: ${JSON.stringify(json)}`);
  const { type, properties, required, items, anyOf, patternProperties, ...options } = json as Record<string, unknown>;
  if ('const' in options) {
    const { const: value, ...rest } = options;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`bad const ${String(value)}`);
    return Type.Literal(value, rest);
  }
  if (Array.isArray(anyOf)) return Type.Union(anyOf.map(fromJsonSchema), options);
  switch (type) {
    case 'object': {
      if (patternProperties !== undefined) {
        const [value] = Object.values(patternProperties as Record<string, unknown>);
        return Type.Record(Type.String(), fromJsonSchema(value), options);
      }
      const needed = new Set(Array.isArray(required) ? (required as string[]) : []);
      const props: Record<string, TSchema> = {};
      for (const [key, value] of Object.entries((properties ?? {}) as Record<string, unknown>)) {
        props[key] = needed.has(key) ? fromJsonSchema(value) : Type.Optional(fromJsonSchema(value));
      }
      return Type.Object(props, options);
    }
    case 'array':
      return Type.Array(fromJsonSchema(items), options);
    case 'string':
      return Type.String(options);
    case 'integer':
      return Type.Integer(options);
    case 'number':
      return Type.Number(options);
    case 'boolean':
      return Type.Boolean(options);
    case 'null':
      return Type.Null(options);
    case undefined:
      return Type.Unknown(options);
    default:
      throw new Error(`unsupported JSON Schema type ${JSON.stringify(type)}`);
  }
}
