/**
 * Route priority, as Kong's `traditional_compatible` router computes it
 * (`kong/router/transform.lua` `get_priority`), compared field by field instead of packed into
 * a 64-bit integer (JavaScript numbers hold 53 bits). Higher wins, in this order of
 * significance:
 *
 * 1. **match weight**: how many of the categories methods, hosts, headers, snis, paths are set
 *    (Kong's 3-bit field; sources/destinations do not exist on HTTP routes);
 * 2. **plain host only**: the route has hosts and none of them is a wildcard;
 * 3. **header count**: number of header names the route requires (capped at 255, as Kong);
 * 4. **regex path**: the matcher's paths are regexes (regex before prefix);
 * 5. **regex_priority**: only for regex matchers (prefix matchers count it as 0);
 * 6. **path length**: length of the normalized plain prefix (capped at 0x7FFFF, as Kong), so
 *    the longest prefix wins; 0 for regex matchers and path-less routes.
 *
 * A route with several paths is split into one matcher per group of equal-length prefixes, and
 * one for all of its regexes, exactly as Kong splits it, so each matcher carries its own length.
 *
 * Ties (equal on all six) are broken deterministically, and differently from Kong, which orders
 * them by the split matcher's UUID and so effectively at random (its docs warn about this):
 *
 * 7. older `created_at` first (the loader sets it to the position in the file);
 * 8. smaller route `id` first (plain string comparison);
 * 9. the matcher built from the route's earlier path first (only between matchers of one route).
 */

const MAX_HEADER_COUNT = 255;
const MAX_PATH_LENGTH = 0x7ffff;

export interface Priority {
  readonly weight: number;
  readonly plainHostOnly: boolean;
  readonly headerCount: number;
  readonly regex: boolean;
  readonly regexPriority: number;
  readonly pathLength: number;
  readonly createdAt: number;
  readonly id: string;
  /** Position of the matcher's first path within its route, for rule 9. */
  readonly pathIndex: number;
}

export interface PriorityInputs {
  readonly hasMethods: boolean;
  readonly hosts: readonly string[];
  readonly headerCount: number;
  readonly hasSnis: boolean;
  readonly hasPaths: boolean;
  readonly regex: boolean;
  readonly regexPriority: number;
  readonly pathLength: number;
  readonly createdAt: number;
  readonly id: string;
  readonly pathIndex: number;
}

export function computePriority(inputs: PriorityInputs): Priority {
  const headerCount = Math.min(inputs.headerCount, MAX_HEADER_COUNT);
  const weight =
    Number(inputs.hasMethods) +
    Number(inputs.hosts.length > 0) +
    Number(headerCount > 0) +
    Number(inputs.hasSnis) +
    Number(inputs.hasPaths);
  return {
    weight,
    plainHostOnly: inputs.hosts.length > 0 && inputs.hosts.every((host) => !host.includes('*')),
    headerCount,
    regex: inputs.regex,
    regexPriority: inputs.regex ? inputs.regexPriority : 0,
    pathLength: inputs.regex ? 0 : Math.min(inputs.pathLength, MAX_PATH_LENGTH),
    createdAt: inputs.createdAt,
    id: inputs.id,
    pathIndex: inputs.pathIndex,
  };
}

/** Sort comparator: negative when `a` must be tried before `b`. Total and deterministic. */
export function comparePriority(a: Priority, b: Priority): number {
  return (
    b.weight - a.weight ||
    Number(b.plainHostOnly) - Number(a.plainHostOnly) ||
    b.headerCount - a.headerCount ||
    Number(b.regex) - Number(a.regex) ||
    b.regexPriority - a.regexPriority ||
    b.pathLength - a.pathLength ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
    a.pathIndex - b.pathIndex
  );
}
