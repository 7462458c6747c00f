/**
 * Candidate lists by path, for the matchers that share one host bucket. Plain prefixes are
 * keyed by their first segment, so a request only looks at prefixes that can match it:
 *
 * - a prefix whose first segment is complete (`/users/`, `/users/42`) can only match a request
 *   whose first segment is exactly `users` — the `closed` map;
 * - a prefix that ends inside its first segment (`/users`, `/u`, `/`) matches any request whose
 *   first segment starts with it (Kong prefixes are plain string prefixes: `/users` matches
 *   `/usersX`) — the `open` map, probed once per distinct key length.
 *
 * Regex paths are indexed the same way by their literal start (`~/users/(?<id>\d+)` under
 * `users`); only regexes without one (`~/(a|b)/x`, `~/\w+`) and path-less matchers are kept in
 * their own lists, scanned for every request. Every list is sorted by
 * global rank so a lookup can stop scanning a list at the first rank worse than its best match.
 */
import type { Matcher } from './matcher.ts';

function pushOnce(map: Map<string, Matcher[]>, key: string, matcher: Matcher): void {
  const list = map.get(key);
  if (!list) map.set(key, [matcher]);
  else if (list[list.length - 1] !== matcher) list.push(matcher);
}

const byRank = (a: Matcher, b: Matcher): number => a.rank - b.rank;

export class PathIndex {
  private readonly closed = new Map<string, Matcher[]>();
  private readonly open = new Map<string, Matcher[]>();
  /** Distinct key lengths in `open`, ascending. */
  private openLengths: number[] = [];
  private readonly regex: Matcher[] = [];
  private readonly pathless: Matcher[] = [];
  /** A route with two hosts in one bucket (`a.com`, `a.com:8080`) is added only once. */
  private last: Matcher | undefined;

  /** Add a matcher; lists are put in rank order by `seal()`. */
  add(matcher: Matcher): void {
    if (this.last === matcher) return;
    this.last = matcher;
    if (matcher.pathKeys.length === 0) {
      (matcher.regexes.length > 0 ? this.regex : this.pathless).push(matcher);
      return;
    }
    for (const { closed, key } of matcher.pathKeys) pushOnce(closed ? this.closed : this.open, key, matcher);
  }

  /** Sort every list by rank and precompute the probe lengths. */
  seal(): void {
    for (const list of this.closed.values()) list.sort(byRank);
    for (const list of this.open.values()) list.sort(byRank);
    this.regex.sort(byRank);
    this.pathless.sort(byRank);
    this.openLengths = [...new Set([...this.open.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  /** Append the candidate lists for a request whose first path segment is `segment`. */
  collect(segment: string, out: Matcher[][]): void {
    const closed = this.closed.get(segment);
    if (closed) out.push(closed);
    for (const length of this.openLengths) {
      if (length > segment.length) break;
      const open = this.open.get(length === segment.length ? segment : segment.slice(0, length));
      if (open) out.push(open);
    }
    if (this.regex.length > 0) out.push(this.regex);
    if (this.pathless.length > 0) out.push(this.pathless);
  }
}
