/**
 * One access-log line per request on the internal listener (publishes, channel info, deletes),
 * with the publisher's verified client certificate when the listener uses mTLS: who published
 * is then on record, not just from which address.
 *
 * @example
 *   const logged = logInternalRequests(internal.request, accessLogger);
 *   // {"event":"access","listener":"internal","method":"POST","path":"/pub/chat","status":202,
 *   //  "client_ip":"127.0.0.1","client_cert_subject":"CN=publisher-1,O=Acme","client_cert_fingerprint":"AB:…"}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.ts';
import { clientCertIdentity } from './tls/client-identity.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function logInternalRequests(handler: Handler, logger: Logger): Handler {
  if (!logger.isLevelEnabled('info')) return handler;
  return (req, res) => {
    const started = performance.now();
    const socket = req.socket;
    const identity = clientCertIdentity(socket);
    res.once('close', () => {
      logger.info(
        {
          event: 'access',
          listener: 'internal',
          method: req.method,
          path: (req.url ?? '/').split('?')[0],
          status: res.headersSent ? res.statusCode : 499,
          latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
          client_ip: socket.remoteAddress,
          ...(identity ? { client_cert_subject: identity.subject, client_cert_fingerprint: identity.fingerprint } : {}),
        },
        'request',
      );
    });
    handler(req, res);
  };
}
