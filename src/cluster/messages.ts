/**
 * What workers tell the primary besides engine traffic (`src/pubsub/engines/ipc/protocol.ts`).
 *
 * @example
 *   process.send({ kind: READY_KIND, addresses: gateway.addresses });
 */
import type { ListenerName } from '../gateway/gateway.ts';

export const READY_KIND = 'sluice:ready';

/** A worker has bound every listener (shared with the other workers through the primary). */
export interface ReadyMessage {
  readonly kind: typeof READY_KIND;
  readonly addresses: Readonly<Record<ListenerName, readonly string[]>>;
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === READY_KIND
    && typeof (value as { addresses?: unknown }).addresses === 'object';
}

export const CONFIG_KIND = 'sluice:config';

/**
 * A declarative config applied through one worker's Admin API (`POST /config`): worker → primary,
 * which relays it to every other worker (and to workers started later) so all serve one config.
 */
export interface ConfigMessage {
  readonly kind: typeof CONFIG_KIND;
  readonly text: string;
}

export function isConfigMessage(value: unknown): value is ConfigMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === CONFIG_KIND
    && typeof (value as { text?: unknown }).text === 'string';
}
