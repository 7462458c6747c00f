import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/**
 * A parsed declarative file that remembers where every value came from, so a validation
 * error found on the plain JS value (`['services', 0, 'routes', 1, 'paths', 0]`) can be
 * reported at the `line:column` the user has to edit. JSON is YAML, so one parser serves both.
 */

/** A location in a config value: map keys and sequence indexes, outermost first. */
export type ConfigPath = readonly (string | number)[];

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface SyntaxProblem extends SourcePosition {
  readonly message: string;
}

export interface SourceMap {
  /** The document as plain JS (maps → objects, sequences → arrays). */
  readonly value: unknown;
  /**
   * Position of the node at `path`, or of the deepest existing ancestor when the path runs
   * past the document (a missing required field is reported at its parent entity).
   * `key: true` points at the map key instead of its value (unknown fields).
   */
  locate(path: ConfigPath, options?: { key?: boolean }): SourcePosition;
  /** Character offset of the node at `path` (file order of entities). */
  offset(path: ConfigPath): number;
}

export type ParseResult = { ok: true; source: SourceMap } | { ok: false; problems: SyntaxProblem[] };

/** Parses YAML/JSON text; broken input gives every parser error at its own line:column. */
export function parseSource(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ ...position(e.pos[0]), message: e.message })),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // Alias bombs and similar are refused by `yaml` at conversion time.
    return { ok: false, problems: [{ line: 1, column: 1, message: err instanceof Error ? err.message : String(err) }] };
  }
  const find = (path: ConfigPath, key: boolean): number => nodeOffset(doc, path, key);
  return {
    ok: true,
    source: {
      value,
      locate: (path, options) => position(find(path, options?.key === true)),
      offset: (path) => find(path, false),
    },
  };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Walks the YAML node tree along `path`; stops at the deepest node that exists. */
function nodeOffset(doc: Document, path: ConfigPath, wantKey: boolean): number {
  let node: unknown = doc.contents;
  let best = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return best;
      if (last && wantKey) return rangeStart(pair.key) ?? best;
      // An empty value (`key:`) has no node; the key is the best place to point at.
      node = pair.value;
      best = rangeStart(node) ?? rangeStart(pair.key) ?? best;
    } else if (isSeq(node)) {
      const index = typeof segment === 'number' ? segment : Number(segment);
      const item = Number.isInteger(index) ? node.items[index] : undefined;
      if (item === undefined) return best;
      node = item;
      best = rangeStart(node) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

/** `['services', 0, 'routes', 1]` → `services[0].routes[1]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
