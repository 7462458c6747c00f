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
