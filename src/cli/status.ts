/**
 * `sluice status [--json]`: the node's `GET /` and `GET /status` from the admin API, as a short
 * human summary, or the `/status` body as JSON.
 *
 * @example
 *   $ sluice status
 *   sluice 0.1.0 on gw-1 (node 0b6c…)
 *   configuration  602bda908c4efb18054177c0cf678f42
 *   connections    3 active
 *   memory         117.1 MiB rss, 22.8 MiB heap
 *   pub/sub        5 channels, 2 subscribers, 12 messages stored, 40 published, 0 slow-consumer closes
 */
import { callJson, type Endpoint } from './api-client.ts';

/** What the summary reads; fields the node does not send are left out of the summary. */
interface StatusBody {
  readonly configuration_hash?: string;
  readonly server?: { readonly connections_active?: number };
  readonly memory?: { readonly rss?: number; readonly heap_used?: number };
  readonly pubsub?: {
    readonly channels?: number;
    readonly subscribers?: number;
    readonly stored_messages?: number;
    readonly published_messages?: number;
    readonly slow_consumer_closes?: number;
  };
}

interface NodeInfo {
  readonly version?: string;
  readonly hostname?: string;
  readonly node_id?: string;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatStatus(node: NodeInfo, status: StatusBody): string[] {
  const lines = [`sluice ${node.version ?? '?'} on ${node.hostname ?? '?'} (node ${node.node_id ?? '?'})`];
  const row = (label: string, value: string) => lines.push(`${label.padEnd(15)}${value}`);
  if (status.configuration_hash !== undefined) row('configuration', status.configuration_hash);
  const active = status.server?.connections_active;
  if (active !== undefined) row('connections', `${active} active`);
  const { rss, heap_used: heap } = status.memory ?? {};
  if (rss !== undefined && heap !== undefined) row('memory', `${mib(rss)} rss, ${mib(heap)} heap`);
  const p = status.pubsub;
  if (p !== undefined) {
    row('pub/sub', [
      plural(p.channels ?? 0, 'channel'),
      plural(p.subscribers ?? 0, 'subscriber'),
      `${plural(p.stored_messages ?? 0, 'message')} stored`,
      `${p.published_messages ?? 0} published`,
      plural(p.slow_consumer_closes ?? 0, 'slow-consumer close'),
    ].join(', '));
  }
  return lines;
}

export async function runStatus(endpoint: Endpoint, options: { readonly json?: boolean }, out: (line: string) => void): Promise<number> {
  const status = await callJson<StatusBody>(endpoint, '/status');
  if (options.json === true) {
    out(JSON.stringify(status, null, 2));
    return 0;
  }
  const node = await callJson<NodeInfo>(endpoint, '/');
  for (const line of formatStatus(node, status)) out(line);
  return 0;
}
