/**
 * Typed pub/sub errors with stable codes. The HTTP layer maps codes to statuses
 * (see `PUBSUB_ERROR_STATUS`); engines and the hub never pick a status themselves.
 *
 * @example
 *   try { parseMessageId(text, 2) } catch (e) { if (isPubsubError(e, 'BAD_MESSAGE_ID')) reply(400) }
 */
export type PubsubErrorCode =
  | 'BAD_MESSAGE_ID'
  | 'CHANNEL_NOT_FOUND'
  | 'TOO_MANY_SUBSCRIBERS'
  | 'MESSAGE_TOO_LARGE'
  | 'TOO_MANY_CHANNELS'
  | 'ENGINE_CLOSED'
  /** The hub is shutting down (graceful drain): reconnect elsewhere. */
  | 'HUB_CLOSED'
  /** The engine's backing store (Redis) cannot be reached right now; retry later. */
  | 'ENGINE_UNAVAILABLE'
  /** Publishing to a `meta/` channel: those carry channel events only. */
  | 'META_CHANNEL'
  /** The publisher upstream hook answered other than 200/201/202/304/204 (nchan: 403). */
  | 'UPSTREAM_REFUSED'
  /** The publisher upstream hook could not be reached or broke off (nchan: 500). */
  | 'UPSTREAM_UNAVAILABLE'
  /** The publisher upstream hook did not answer within its timeout (nchan: 500). */
  | 'UPSTREAM_TIMEOUT';

/** The status nchan answers with for each code. */
export const PUBSUB_ERROR_STATUS: Readonly<Record<PubsubErrorCode, number>> = {
  BAD_MESSAGE_ID: 400,
  CHANNEL_NOT_FOUND: 403, // nchan_subscribe_existing_channels_only
  TOO_MANY_SUBSCRIBERS: 403,
  MESSAGE_TOO_LARGE: 413,
  TOO_MANY_CHANNELS: 400,
  ENGINE_CLOSED: 503,
  HUB_CLOSED: 503,
  ENGINE_UNAVAILABLE: 503,
  META_CHANNEL: 403,
  UPSTREAM_REFUSED: 403,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
};

export class PubsubError extends Error {
  readonly code: PubsubErrorCode;
  constructor(code: PubsubErrorCode, message: string) {
    super(message);
    this.name = 'PubsubError';
    this.code = code;
  }
}

export function isPubsubError(e: unknown, code?: PubsubErrorCode): e is PubsubError {
  return e instanceof PubsubError && (code === undefined || e.code === code);
}
