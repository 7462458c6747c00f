/** A JSON key operation with its value already typed (Kong casts at request time; Sluice once). */
export interface JsonEntry {
  readonly name: string;
  readonly value: unknown;
}

export interface JsonOps {
  readonly remove: readonly string[];
  readonly rename: readonly { readonly name: string; readonly to: string }[];
  readonly replace: readonly JsonEntry[];
  readonly add: readonly JsonEntry[];
  readonly append: readonly JsonEntry[];
}

/**
 * Kong's cast_value: `number` → the number, or the entry is skipped when the text is not a
 * number (Kong's `tonumber` gives nil); `boolean` → `value === 'true'`; otherwise the text.
 */
export function castValue(value: string, type: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (type === 'number') {
    const n = value.trim() === '' ? NaN : Number(value);
    return Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
  }
  if (type === 'boolean') return { ok: true, value: value === 'true' };
  return { ok: true, value };
}

/**
 * Kong's transform_json_body on a top-level JSON object: remove, rename (existing keys),
 * replace (existing keys), add (missing keys), append (a string becomes `[old, new]`).
 * Returns undefined when the body is not a JSON object: it then goes out unchanged.
 */
export function transformJson(text: string, ops: JsonOps): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const json = body as Record<string, unknown>;
  for (const name of ops.remove) delete json[name];
  for (const { name, to } of ops.rename) {
    if (json[name] !== undefined && name !== to) {
      json[to] = json[name];
      delete json[name];
    }
  }
  for (const { name, value } of ops.replace) if (json[name] !== undefined) json[name] = value;
  for (const { name, value } of ops.add) if (json[name] === undefined) json[name] = value;
  for (const { name, value } of ops.append) {
    const current = json[name];
    json[name] = Array.isArray(current) ? [...(current as unknown[]), value] : current === undefined ? [value] : [current, value];
  }
  return JSON.stringify(json);
}
