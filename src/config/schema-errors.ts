import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

/**
 * Turns TypeBox's validation errors into messages a person editing kong.yml can act on:
 * "unknown field 'foo'" at the key, "missing required field 'host'" at the entity,
 * "must be one of http, https" for enums. One message per location: TypeBox reports a
 * missing property twice (required + wrong type), the first is the useful one.
 */

export interface SchemaIssue {
  readonly path: (string | number)[];
  readonly message: string;
  /** Point at the map key rather than its value. */
  readonly atKey: boolean;
}

export function schemaIssues(check: TypeCheck<TSchema>, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const error of check.Errors(value)) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    issues.push(describe(error));
  }
  return issues;
}

function describe(error: ValueError): SchemaIssue {
  const path = pointerToPath(error.path);
  const field = path.at(-1);
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return { path, atKey: true, message: `unknown field '${String(field)}'` };
    case ValueErrorType.ObjectRequiredProperty:
      return { path: path.slice(0, -1), atKey: false, message: `missing required field '${String(field)}'` };
    case ValueErrorType.Union: {
      const inner = nullableInnerError(error);
      return inner !== undefined ? describe(inner) : { path, atKey: false, message: unionMessage(error) };
    }
    default:
      return { path, atKey: false, message: `${lowerFirst(error.message)}, got ${describeValue(error.value)}` };
  }
}

/**
 * A nullable list or record (`X | null`) given a list or record that does not fit X: X's own
 * first error says where and why (`cluster_nodes/0/port: expected integer to be less or equal
 * to 65535`), where the union could only say "expected array or null, got an array".
 */
function nullableInnerError(error: ValueError): ValueError | undefined {
  if (error.value === null || typeof error.value !== 'object') return undefined;
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf ?? [];
  const inner = variants.findIndex((v) => v.type !== 'null');
  if (variants.length !== 2 || !variants.some((v) => v.type === 'null') || inner < 0) return undefined;
  return error.errors[inner]?.First();
}

function unionMessage(error: ValueError): string {
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf ?? [];
  const literals = variants.map((v) => (v as { const?: unknown }).const);
  if (variants.length > 0 && literals.every((l) => typeof l === 'string' || typeof l === 'number')) {
    return `must be one of ${literals.join(', ')}, got ${describeValue(error.value)}`;
  }
  const kinds = variants.map((v) => (v.type === 'object' ? `{${Object.keys((v as { properties?: object }).properties ?? {}).join(', ')}}` : String(v.type)));
  return `expected ${kinds.join(' or ')}, got ${describeValue(error.value)}`;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return 'nothing';
  return String(value);
}

/** `/a/0/b~1c` → `['a', 0, 'b/c']`. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}
