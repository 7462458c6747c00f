import type { Pdk } from '../../pdk/types.ts';
import type { LimitBy } from './schema.ts';

/**
 * Kong's `get_identifier`: whose counter a request goes to. Anything that cannot be found
 * (no consumer, no header, another path) falls back to the client IP, as in Kong.
 */
export function identify(kong: Pdk, limitBy: LimitBy, headerName: string | undefined, path: string | undefined): string {
  let id: string | undefined;
  switch (limitBy) {
    case 'consumer':
      id = kong.client.getConsumer()?.id ?? kong.client.getCredential()?.id;
      break;
    case 'credential':
      id = kong.client.getCredential()?.id;
      break;
    case 'service':
      id = kong.router.getService()?.id;
      break;
    case 'header':
      id = headerName === undefined ? undefined : kong.request.getHeader(headerName);
      break;
    case 'path': {
      const requested = kong.request.getPath();
      id = requested === path ? requested : undefined;
      break;
    }
    case 'ip':
      break;
  }
  return id ?? kong.client.getForwardedIp();
}
