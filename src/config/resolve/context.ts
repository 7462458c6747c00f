import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical.ts';
import type { Report } from '../check-route.ts';
import type { EntityNode } from '../collect.ts';
import type { ErrorSink } from '../errors.ts';
import { refText } from '../index-by-key.ts';

/** What every entity resolver shares: where problems go and how nameless entities are keyed. */
export interface ResolveContext {
  readonly sink: ErrorSink;
  /**
   * One numbering for services and routes alike: the keys feed the derived ids, and ids must
   * stay the same from one load (and one release) to the next.
   */
  readonly content: ContentKeys;
  /** Reports problems of `node` at paths below it, labelled with `entity` when it has a name. */
  reportFor(node: EntityNode<unknown>, entity: string | undefined): Report;
}

export function createResolveContext(sink: ErrorSink): ResolveContext {
  return {
    sink,
    content: new ContentKeys(),
    reportFor: (node, entity) => (sub, message, atKey) =>
      sink.add([...node.path, ...sub], message, { ...(entity ? { entity } : {}), ...(atKey ? { atKey } : {}) }),
  };
}

/** A stable key for an entity that has no name: its own content, numbered among equals. */
export class ContentKeys {
  readonly #seen = new Map<string, number>();
  key(parts: unknown): string {
    const text = canonicalJson(parts);
    const n = (this.#seen.get(text) ?? 0) + 1;
    this.#seen.set(text, n);
    return `${createHash('sha1').update(text).digest('hex')}#${n}`;
  }
}

/** How an entity is named in messages (`service "orders"`), when it has a name. */
export function label(type: string, name: unknown): string | undefined {
  return typeof name === 'string' ? `${type} "${name}"` : undefined;
}

/** The entity's own fields: nested children and comments do not change its identity. */
export function childKeys(raw: Readonly<Record<string, unknown>>, children: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!children.includes(k) && k !== '_comment') out[k] = v;
  return out;
}

const NAME_RE = /^[\p{L}\p{N}._~-]+$/u;
const NAME_MESSAGE = "it must only contain alphanumeric and '., -, _, ~' characters";

/** Kong's rule for names (service, route, plugin instance): reported at `field`. */
export function checkName(report: Report, field: string, name: string | undefined): void {
  if (name !== undefined && !NAME_RE.test(name)) report([field], `invalid value '${name}': ${NAME_MESSAGE}`);
}

/** The message for a foreign key `field` (e.g. `service`) that matches no entity of its type. */
export function invalidReference(field: string, ref: string | { id: string }): string {
  return `invalid reference '${field}: ${refText(ref)}' (no such entry in '${field}s')`;
}
