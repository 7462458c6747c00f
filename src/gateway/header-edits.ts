import type { HeaderList } from '../proxy/index.ts';

/** Outgoing headers by lower-case name. */
export type OutHeaders = Record<string, string | string[]>;

/** One change to a header set, recorded in order and applied once the set exists. */
export type HeaderEdit =
  | { readonly op: 'set'; readonly name: string; readonly value: string | readonly string[] }
  | { readonly op: 'add'; readonly name: string; readonly value: string }
  | { readonly op: 'clear'; readonly name: string };

/** Applies edits in order; names are lower-cased by whoever recorded them. */
export function applyHeaderEdits(headers: OutHeaders, edits: readonly HeaderEdit[]): OutHeaders {
  for (const edit of edits) {
    if (edit.op === 'clear') delete headers[edit.name];
    else if (edit.op === 'set') headers[edit.name] = typeof edit.value === 'string' ? edit.value : [...edit.value];
    else {
      const current = headers[edit.name];
      headers[edit.name] = current === undefined ? edit.value : [...(typeof current === 'string' ? [current] : current), edit.value];
    }
  }
  return headers;
}

/**
 * {@link applyHeaderEdits} on a flat `writeHead` list (name, value, ...) whose names are
 * lower-case and each present once, with the same outcome an object would give: a set or an
 * add on a present name changes it in place, on an absent one appends it; a clear removes it.
 * A response head with plugins but no header_filter goes out this way, without an object
 * keyed by arbitrary names in between.
 */
export function applyHeaderEditsToList(list: HeaderList, edits: readonly HeaderEdit[]): HeaderList {
  for (const edit of edits) {
    const at = indexOfName(list, edit.name);
    if (edit.op === 'clear') {
      if (at !== -1) list.splice(at, 2);
    } else if (edit.op === 'set') {
      const value = typeof edit.value === 'string' ? edit.value : [...edit.value];
      if (at === -1) list.push(edit.name, value);
      else list[at + 1] = value;
    } else if (at === -1) {
      list.push(edit.name, edit.value);
    } else {
      const current = list[at + 1]!;
      list[at + 1] = [...(typeof current === 'string' ? [current] : current), edit.value];
    }
  }
  return list;
}

function indexOfName(list: HeaderList, name: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return i;
  return -1;
}

/** First value of a header in an outgoing set. */
export function firstHeader(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}
