/**
 * Kong route regexes are PCRE; Sluice runs them as JS RegExps. The common PCRE-only spellings
 * are rewritten so Kong files load unchanged: named groups `(?P<name>...)` and a leading
 * `(?i)` (case-insensitive). Kong anchors route regexes at the start of the path.
 */

/** `~/users/(?P<id>\d+)$` → `/^(?:\/users\/(?<id>\d+)$)/`. Throws SyntaxError when invalid. */
export function compileRouteRegex(path: string): RegExp {
  const { source, flags } = translatePcre(path.startsWith('~') ? path.slice(1) : path);
  return new RegExp(`^(?:${source})`, flags);
}

/** Header values `~*regex` are case-insensitive regexes (Kong), unanchored. */
export function compileHeaderRegex(value: string): RegExp {
  const { source } = translatePcre(value.startsWith('~*') ? value.slice(2) : value);
  return new RegExp(source, 'i');
}

/**
 * The snapshot keeps regex paths as written except for PCRE's `(?P<name>`, rewritten to
 * `(?<name>` so consumers can hand the path to `new RegExp` directly.
 */
export function pcreNamedGroups(path: string): string {
  return path.startsWith('~') ? path.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>') : path;
}

export function translatePcre(pattern: string): { source: string; flags: string } {
  let source = pattern;
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  source = source.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>');
  return { source, flags };
}
