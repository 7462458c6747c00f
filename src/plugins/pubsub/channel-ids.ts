import type { Pdk } from '../pdk/types.ts';
import { compileTemplate, type Template } from '../template.ts';

/** nchan: at most 255 channels per connection (multiplexed or split). */
export const MAX_CHANNELS = 255;

/** The channel-id part of a pub/sub plugin's config. */
export interface ChannelIdConfig {
  readonly channels: readonly string[];
  readonly channel_id_split_delimiter?: string;
  readonly max_channel_id_length: number;
}

/** Why channel ids were refused: status and message as nchan answers them. */
export interface ChannelIdRefusal {
  readonly status: 400 | 403;
  readonly message: string;
}

/**
 * Channel ids from templates over the request (`chat:$(uri_captures.room)`,
 * `user:$(consumer.username)`, `$(jwt.claims.sub)`), compiled once per snapshot.
 *
 * ```ts
 * const ids = compileChannelIds({ channels: ['chat:$(uri_captures.room)'], max_channel_id_length: 1024 });
 * const result = ids.render(kong); // ['chat:lobby'] or { status: 403, message }
 * ```
 */
export function compileChannelIds(config: ChannelIdConfig): { render(kong: Pdk): string[] | ChannelIdRefusal } {
  const templates: Template[] = config.channels.map((text) => compileTemplate(text));
  const delimiter = config.channel_id_split_delimiter;
  return {
    render(kong) {
      const ids: string[] = [];
      for (const template of templates) {
        const value = template.render(kong);
        // nchan checks the length before splitting.
        if (value.length > config.max_channel_id_length) return { status: 403, message: 'Channel id too long' };
        for (const id of delimiter ? value.split(delimiter) : [value]) if (id !== '') ids.push(id);
      }
      if (ids.length === 0) return { status: 400, message: 'No channel id provided' };
      if (ids.length > MAX_CHANNELS) return { status: 403, message: `Too many channels (at most ${MAX_CHANNELS})` };
      // An exact-size copy: `ids` grew by push (room for 17 ids), and an open stream keeps the array.
      return ids.slice();
    },
  };
}

/** Load-time check of the templates, for the plugins' `validate`. */
export function channelTemplateProblems(channels: readonly string[]): string[] {
  const problems: string[] = [];
  channels.forEach((text, i) => {
    try {
      compileTemplate(text);
    } catch (error) {
      problems.push(`channels[${i}]: ${(error as Error).message}`);
    }
  });
  return problems;
}
