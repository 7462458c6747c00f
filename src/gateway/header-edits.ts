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

/** First value of a header in an outgoing set. */
export function firstHeader(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}
