/** nchan's publisher API: HTTP and WebSocket publishing, channel info, internal routes. */
export { channelInfoFormat, formatChannelInfo, type ChannelInfoFormat } from './channel-info.ts';
export {
  createPublisherHandler, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_CHANNEL_ID_LENGTH,
  type PublisherHandler, type PublisherOptions,
} from './http-publisher.ts';
export { createWebSocketPublisher, type WebSocketPublisher, type WebSocketPublisherOptions } from './websocket-publisher.ts';
export {
  createInternalPubsubHandler, publisherChannelId, PUBLISHER_PREFIX,
  type InternalPubsubHandler, type InternalPubsubOptions,
} from './internal-routes.ts';
