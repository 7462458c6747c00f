/**
 * Channel info (publisher GET/DELETE/publish answers) byte for byte as nchan 1.3.6 writes it
 * (`nchan_output_info.c`, observed in test/differential/nchan-reference.test.ts):
 *
 * - text/plain (default): four `\r\n`-separated lines, no trailing newline;
 * - JSON: labelled `text/json` whatever JSON type was asked for;
 * - XML: labelled `text/xml`, `\r\n` line ends, no trailing newline;
 * - YAML: labelled `text/yaml`, the id quoted, ends with a blank line (`\r\n\r\n`).
 *
 * `Accept` is read as nchan does: the first comma-separated entry of the form
 * `text/<sub>` or `application/<sub>` whose subtype starts with `plain`, `json`, `x-json`,
 * `yaml`, `x-yaml` or `xml` wins; nothing matching → text/plain. q-values are ignored.
 *
 * @example
 *   formatChannelInfo(info, 'application/json')
 *   // { contentType: 'text/json', body: '{"messages": 2, "requested": -1, "subscribers": 0, "last_message_id": "1795718443:1" }' }
 */
import type { ChannelInfo } from '../engine.ts';
import { formatMessageId } from '../message-id.ts';

export type ChannelInfoFormat = 'plain' | 'json' | 'xml' | 'yaml';

const SUBTYPES: readonly (readonly [string, ChannelInfoFormat])[] = [
  ['plain', 'plain'],
  ['json', 'json'],
  ['x-json', 'json'],
  ['yaml', 'yaml'],
  ['x-yaml', 'yaml'],
  ['xml', 'xml'],
];

const CONTENT_TYPES: Readonly<Record<ChannelInfoFormat, string>> = {
  plain: 'text/plain',
  json: 'text/json',
  xml: 'text/xml',
  yaml: 'text/yaml',
};

/** The info format an `Accept` header picks (nchan's `nchan_output_info_type`). */
export function channelInfoFormat(accept: string | undefined): ChannelInfoFormat {
  if (accept === undefined) return 'plain';
  for (const entry of accept.split(',')) {
    const lower = entry.toLowerCase();
    let at = lower.indexOf('text/');
    let prefix = 'text/';
    if (at === -1) {
      at = lower.indexOf('application/');
      prefix = 'application/';
    }
    if (at === -1) continue;
    const subtype = lower.slice(at + prefix.length);
    for (const [name, format] of SUBTYPES) if (subtype.startsWith(name)) return format;
  }
  return 'plain';
}

/**
 * Formats channel info for `accept`. `null` (no channel) prints as nchan prints a missing
 * channel record: zeros, never requested, last message id `0:0`.
 */
export function formatChannelInfo(info: ChannelInfo | null, accept: string | undefined): { contentType: string; body: string } {
  const format = channelInfoFormat(accept);
  const messages = info?.messages ?? 0;
  const requested = info?.requested ?? -1;
  const subscribers = info?.subscribers ?? 0;
  const id = info?.lastMessageId ? formatMessageId(info.lastMessageId) : '0:0';
  let body: string;
  switch (format) {
    case 'json':
      body = `{"messages": ${messages}, "requested": ${requested}, "subscribers": ${subscribers}, "last_message_id": "${id}" }`;
      break;
    case 'xml':
      body = [
        '<?xml version="1.0" encoding="UTF-8" ?>',
        '<channel>',
        `  <messages>${messages}</messages>`,
        `  <requested>${requested}</requested>`,
        `  <subscribers>${subscribers}</subscribers>`,
        `  <last_message_id>${id}</last_message_id>`,
        '</channel>',
      ].join('\r\n');
      break;
    case 'yaml':
      body = `---\r\nmessages: ${messages}\r\nrequested: ${requested}\r\nsubscribers: ${subscribers}\r\nlast_message_id: "${id}"\r\n\r\n`;
      break;
    default:
      body = `queued messages: ${messages}\r\nlast requested: ${requested} sec. ago\r\nactive subscribers: ${subscribers}\r\nlast message id: ${id}`;
  }
  return { contentType: CONTENT_TYPES[format], body };
}
