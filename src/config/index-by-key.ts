import type { EntityNode } from './collect.ts';
import type { ErrorSink } from './errors.ts';
import { isUuid } from './ids.ts';
import { formatPath, type ConfigPath } from './source-map.ts';

/**
 * One entity type's lookup tables: by id and by endpoint key (name, username...). Detects
 * duplicates as entities are added and resolves foreign keys the way Kong's declarative
 * loader does: a string is tried as an id, then as a name; `{id}` is an id.
 */
export class EntityIndex<V> {
  readonly #byId = new Map<string, EntityNode<V>>();
  readonly #byKey = new Map<string, EntityNode<V>>();

  constructor(
    /** Plural entity name as in the file (`services`), used in messages. */
    readonly plural: string,
    private readonly sink: ErrorSink,
  ) {}

  /**
   * Registers the node's id; a second entity with the same explicit id is an error. Equal
   * derived ids come from equal keys, which `addKey` reports with a clearer message.
   */
  addId(node: EntityNode<V>, label: string | undefined): void {
    const previous = this.#byId.get(node.id);
    if (previous) {
      if (node.raw.id === undefined) return;
      this.sink.add([...node.path, 'id'], `uniqueness violation: duplicate '${this.plural}' entity with id "${node.id}" (first declared at ${where(previous.path)})`, {
        ...(label ? { entity: label } : {}),
      });
      return;
    }
    this.#byId.set(node.id, node);
  }

  /**
   * Registers a unique key (`field` names it in the message); reports a duplicate at
   * `path` + field. Keys are compared as given (Kong's names are case-sensitive).
   */
  addKey(
    node: EntityNode<V>,
    field: string,
    key: string,
    label: string | undefined,
    keyPath?: ConfigPath,
    describe?: (firstPath: string) => string,
  ): boolean {
    const previous = this.#byKey.get(`${field}\u0000${key}`);
    if (previous) {
      this.sink.add(keyPath ?? [...node.path, field], describe ? describe(where(previous.path)) : `uniqueness violation: duplicate '${this.plural}' entity with ${field} "${key}" (first declared at ${where(previous.path)})`, {
        ...(label ? { entity: label } : {}),
      });
      return false;
    }
    this.#byKey.set(`${field}\u0000${key}`, node);
    return true;
  }

  /** Resolves a reference by id or by any of `fields` (e.g. `name`, `username`). */
  resolve(ref: string | { id: string }, fields: readonly string[]): EntityNode<V> | undefined {
    if (typeof ref !== 'string') return this.#byId.get(ref.id.toLowerCase());
    if (isUuid(ref)) {
      const byId = this.#byId.get(ref.toLowerCase());
      if (byId) return byId;
    }
    for (const field of fields) {
      const found = this.#byKey.get(`${field}\u0000${ref}`);
      if (found) return found;
    }
    return undefined;
  }
}

function where(path: ConfigPath): string {
  return formatPath(path);
}

/** How a reference was written, for "invalid reference" messages. */
export function refText(ref: string | { id: string }): string {
  return typeof ref === 'string' ? ref : ref.id;
}
