/**
 * `sluice channels [prefix] [--json]`: every channel (whose id starts with `prefix`) from the
 * admin API's `GET /channels`, walking all pages, as a table or a JSON array. `meta/` channels
 * are listed only when the prefix asks for them (`sluice channels meta/`).
 *
 * @example
 *   $ sluice channels chat:
 *   CHANNEL  MESSAGES  SUBSCRIBERS  LAST MESSAGE ID  LAST REQUESTED
 *   chat:1         12            3  1795718443:2     5s ago
 */
import { CliError, callJson, type Endpoint } from './api-client.ts';

export interface ChannelRow {
  readonly id: string;
  readonly messages: number;
  readonly subscribers: number;
  readonly last_message_id: string | null;
  readonly requested: number;
}

interface Page {
  readonly data: readonly ChannelRow[];
  readonly next: string | null;
}

/** Largest page the Admin API serves: fewest round trips. */
export const MAX_PAGE_SIZE = 1000;
/** A walk that never ends is a broken server, not a big node. */
const MAX_PAGES = 100_000;

/** `--page-size`: an integer 1..1000. */
export function parsePageSize(value: string | undefined): number {
  if (value === undefined) return MAX_PAGE_SIZE;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE)) throw new CliError(`--page-size must be an integer between 1 and ${MAX_PAGE_SIZE}, not '${value}'`);
  return n;
}

export async function fetchAllChannels(endpoint: Endpoint, prefix: string, pageSize = MAX_PAGE_SIZE): Promise<ChannelRow[]> {
  const rows: ChannelRow[] = [];
  const query = new URLSearchParams({ size: String(pageSize) });
  if (prefix !== '') query.set('prefix', prefix);
  let path: string | null = `/channels?${query.toString()}`;
  for (let pages = 0; path !== null; pages++) {
    if (pages >= MAX_PAGES || !path.startsWith('/channels?')) throw new CliError(`the ${endpoint.name} sent an unexpected next page: ${path}`);
    const page: Page = await callJson<Page>(endpoint, path);
    rows.push(...page.data);
    path = page.next;
  }
  return rows;
}

/** Control characters in ids would break the table: show them escaped. */
const printable = (id: string) =>
  [...id].map((c) => {
    const n = c.charCodeAt(0);
    return n < 0x20 || n === 0x7f ? `\\u${n.toString(16).padStart(4, '0')}` : c;
  }).join('');

export function formatChannelTable(rows: readonly ChannelRow[]): string[] {
  const header = ['CHANNEL', 'MESSAGES', 'SUBSCRIBERS', 'LAST MESSAGE ID', 'LAST REQUESTED'];
  const cells = rows.map((r) => [
    printable(r.id),
    String(r.messages),
    String(r.subscribers),
    r.last_message_id ?? '-',
    r.requested < 0 ? 'never' : `${r.requested}s ago`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const numeric = new Set([1, 2]);
  const line = (c: readonly string[]) =>
    c.map((v, i) => (numeric.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}

export interface ChannelsOptions {
  readonly json?: boolean;
  /** Channels per Admin API request (default 1000). */
  readonly pageSize?: string;
}

export async function runChannels(endpoint: Endpoint, prefix: string, options: ChannelsOptions, out: (line: string) => void): Promise<number> {
  const rows = await fetchAllChannels(endpoint, prefix, parsePageSize(options.pageSize));
  if (options.json === true) out(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) out(prefix === '' ? 'no channels' : `no channels with prefix '${prefix}'`);
  else for (const line of formatChannelTable(rows)) out(line);
  return 0;
}
