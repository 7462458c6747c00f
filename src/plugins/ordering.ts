/**
 * Dynamic plugin ordering for the `access` phase (Sluice's `ordering` field; Kong sells it
 * as Enterprise): `before: {access: [X]}` makes a plugin run before X, `after` after it.
 * Every other phase keeps the static PRIORITY order.
 */

export interface OrderingNode {
  readonly name: string;
  readonly priority: number;
  readonly before?: readonly string[];
  readonly after?: readonly string[];
}

/** Edges `a → b` meaning "a runs before b", among the given names only. */
function edges(nodes: readonly OrderingNode[]): Map<string, Set<string>> {
  const present = new Set(nodes.map((n) => n.name));
  const out = new Map<string, Set<string>>(nodes.map((n) => [n.name, new Set<string>()]));
  for (const node of nodes) {
    for (const other of node.before ?? []) if (present.has(other)) out.get(node.name)?.add(other);
    for (const other of node.after ?? []) if (present.has(other)) out.get(other)?.add(node.name);
  }
  return out;
}

/** A cycle among the ordering constraints, as the names around it (`[a, b, a]`), or undefined. */
export function findOrderingCycle(nodes: readonly OrderingNode[]): string[] | undefined {
  const graph = edges(nodes);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of graph.get(name) ?? []) {
      if (state.get(next) === 'visiting') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...graph.keys()].sort()) {
    if (state.has(name)) continue;
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Names in access-phase order: PRIORITY order (higher first, then name), changed only as much
 * as the constraints require. Kahn's algorithm, taking among the ready plugins the one whose
 * own priority, or that of a plugin waiting on it, is highest: a low-priority plugin that must
 * run before a high-priority one moves up just ahead of it. Throws on a cycle; the config
 * loader rejects cycles before this can happen.
 */
export function accessOrder(nodes: readonly OrderingNode[]): string[] {
  const graph = edges(nodes);
  const priority = effectivePriorities(nodes, graph);
  const incoming = new Map<string, number>(nodes.map((n) => [n.name, 0]));
  for (const targets of graph.values()) for (const t of targets) incoming.set(t, (incoming.get(t) ?? 0) + 1);
  const byPriority = (a: string, b: string) => (priority.get(b) ?? 0) - (priority.get(a) ?? 0) || a.localeCompare(b);
  const ready = [...incoming].filter(([, n]) => n === 0).map(([name]) => name);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort(byPriority);
    const name = ready.shift() as string;
    order.push(name);
    for (const next of graph.get(name) ?? []) {
      const left = (incoming.get(next) ?? 0) - 1;
      incoming.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (order.length !== nodes.length) throw new Error('plugin ordering has a cycle');
  return order;
}

/** Each plugin's priority raised to the highest priority of any plugin that must run after it. */
function effectivePriorities(nodes: readonly OrderingNode[], graph: Map<string, Set<string>>): Map<string, number> {
  const own = new Map(nodes.map((n) => [n.name, n.priority]));
  const result = new Map<string, number>();
  const visiting = new Set<string>();
  const compute = (name: string): number => {
    const known = result.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return own.get(name) ?? 0; // a cycle: accessOrder throws below
    visiting.add(name);
    let value = own.get(name) ?? 0;
    for (const next of graph.get(name) ?? []) value = Math.max(value, compute(next));
    visiting.delete(name);
    result.set(name, value);
    return value;
  };
  for (const node of nodes) compute(node.name);
  return result;
}
