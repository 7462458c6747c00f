import type { Pdk } from '../../pdk/types.ts';
import type { Entry } from './entries.ts';

/** A querystring or a body as name → value(s), in Kong's table form. */
export type Params = Record<string, unknown>;

export interface ParamOps {
  readonly remove: readonly string[];
  readonly rename: readonly Entry[];
  readonly replace: readonly Entry[];
  readonly add: readonly Entry[];
  readonly append: readonly Entry[];
}

export function hasOps(ops: ParamOps): boolean {
  return ops.remove.length + ops.rename.length + ops.replace.length + ops.add.length + ops.append.length > 0;
}

/** Kong's append_value: a string becomes `[old, new]`, a list grows, nothing becomes `[new]`. */
export function appendValue(current: unknown, value: string): unknown[] {
  if (Array.isArray(current)) return [...(current as unknown[]), value];
  if (current === undefined || current === null) return [value];
  return [current, value];
}

/**
 * Kong's order — remove, rename, replace (only existing names), add (only missing names),
 * append — on `params` in place. `existing` false skips remove/rename/replace, as Kong does for
 * an empty body. Returns whether any operation ran (Kong then re-encodes the body).
 */
export function applyParamOps(kong: Pdk, params: Params, ops: ParamOps, existing = true): boolean {
  let ran = false;
  if (existing) {
    for (const name of ops.remove) {
      delete params[name];
      ran = true;
    }
    for (const { name, value } of ops.rename) {
      const to = value.render(kong);
      if (params[name] !== undefined && to !== name) {
        params[to] = params[name];
        delete params[name];
      }
      ran = true;
    }
    for (const { name, value } of ops.replace) {
      if (params[name] !== undefined) {
        params[name] = value.render(kong);
        ran = true;
      }
    }
  }
  for (const { name, value } of ops.add) {
    if (params[name] === undefined) {
      params[name] = value.render(kong);
      ran = true;
    }
  }
  for (const { name, value } of ops.append) {
    params[name] = appendValue(params[name], value.render(kong));
    ran = true;
  }
  return ran;
}
