import { compileTemplate, TemplateError, type Template } from '../../template.ts';

/** One configured `name:value` entry, its value compiled as a template. */
export interface Entry {
  readonly name: string;
  readonly value: Template;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Kong's split (`^([^:]+):*(.-)$`): the name runs to the first colon, further colons before
 * the value are skipped. `"x:a:b"` is `x` = `a:b`.
 */
export function splitEntry(entry: string): { name: string; value: string } {
  const colon = entry.indexOf(':');
  if (colon === -1) return { name: entry, value: '' };
  let start = colon + 1;
  while (entry[start] === ':') start += 1;
  return { name: entry.slice(0, colon), value: entry.slice(start) };
}

/** Names to remove; header names must be valid header names (Kong's validate_headers). */
export function compileNames(entries: readonly string[], field: string, headers: boolean): string[] {
  return entries.map((entry, i) => {
    const name = splitEntry(entry).name;
    if (name === '') throw new Error(`${field}[${i}]: empty name`);
    if (headers && !HEADER_NAME.test(name)) throw new Error(`${field}[${i}]: '${name}' is not a valid header`);
    return name;
  });
}

/**
 * `name:value` entries. Kong's checks: every entry needs a value (`key 'x' has no value`),
 * except for headers where an empty value makes the entry a no-op (dropped here); header names,
 * and rename targets, must be valid header names. Templates that do not compile are load errors.
 */
export function compileEntries(entries: readonly string[], field: string, headers: boolean, valueIsHeader = false): Entry[] {
  const out: Entry[] = [];
  entries.forEach((entry, i) => {
    const { name, value } = splitEntry(entry);
    const at = `${field}[${i}]`;
    if (name === '') throw new Error(`${at}: empty name in '${entry}'`);
    if (headers && !HEADER_NAME.test(name)) throw new Error(`${at}: '${name}' is not a valid header`);
    if (value === '') {
      if (headers && !valueIsHeader) return;
      throw new Error(valueIsHeader ? `${at}: '' is not a valid header` : `${at}: key '${name}' has no value`);
    }
    if (valueIsHeader && !HEADER_NAME.test(value)) throw new Error(`${at}: '${value}' is not a valid header`);
    try {
      out.push({ name, value: compileTemplate(value) });
    } catch (err) {
      if (err instanceof TemplateError) throw new Error(`${at}: ${err.message}`);
      throw err;
    }
  });
  return out;
}
