/**
 * `sluice publish <channel> [--data <text> | stdin] [--event <name>] [--content-type <t>]`:
 * POSTs one message to the internal listener's `/pub/<channel>` (nchan's publisher API) and
 * prints where it went: `published 1795718443:0 to chat:1 (2 subscribers, 5 messages stored)`,
 * or the channel info as JSON with `--json`.
 *
 * @example
 *   echo '{"n":1}' | sluice publish chat:1 --content-type application/json
 */
import { call, CliError, expectOk, type Endpoint } from './api-client.ts';

export interface PublishOptions {
  readonly data?: string;
  readonly event?: string;
  readonly contentType?: string;
  readonly json?: boolean;
}

interface ChannelInfoJson {
  readonly messages: number;
  readonly subscribers: number;
  readonly last_message_id: string;
}

/** The message body: `--data`, else all of stdin (refused on a terminal, where it would hang). */
export async function messageBody(data: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<Buffer> {
  if (data !== undefined) return Buffer.from(data, 'utf8');
  if (stdin.isTTY === true) throw new CliError('no message: pass --data <text> or pipe the message on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export async function runPublish(endpoint: Endpoint, channel: string, options: PublishOptions, out: (line: string) => void): Promise<number> {
  if (channel === '') throw new CliError('the channel id must not be empty');
  const body = await messageBody(options.data);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  if (options.event !== undefined) headers['x-eventsource-event'] = options.event;
  const answer = expectOk(endpoint, await call(endpoint, `/pub/${encodeURIComponent(channel)}`, { method: 'POST', body, headers }));
  if (options.json === true) {
    out(answer.text);
    return 0;
  }
  const info = JSON.parse(answer.text) as ChannelInfoJson;
  const subscribers = `${info.subscribers} ${info.subscribers === 1 ? 'subscriber' : 'subscribers'}`;
  out(`published ${info.last_message_id} to ${channel} (${subscribers}, ${info.messages} stored)`);
  return 0;
}
