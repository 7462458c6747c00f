import { randomUUID } from 'node:crypto';
import type { Pdk } from '../../pdk/types.ts';

/**
 * Kong's three id generators. `uuid#counter` is a per-process uuid (Kong: per nginx worker)
 * and a counter — cheaper than a fresh uuid and still unique across nodes.
 */
export type Generator = (kong: Pdk) => string;

const processUuid = randomUUID();
let counter = 0;
let trackerSequence = 0;

export const GENERATORS: Readonly<Record<'uuid' | 'uuid#counter' | 'tracker', Generator>> = {
  uuid: () => randomUUID(),
  'uuid#counter': () => {
    counter += 1;
    return `${processUuid}#${counter}`;
  },
  /**
   * Kong's is `server_addr-server_port-worker_pid-connection-connection_requests-now`. The PDK
   * exposes neither the server address nor the connection serial, so Sluice writes
   * `host-port-pid-sequence-now`: the Host the client addressed, the listener port, the
   * process id, a per-process request sequence number, and seconds with milliseconds.
   */
  tracker: (kong) => {
    trackerSequence += 1;
    return `${kong.request.getHost()}-${kong.request.getPort()}-${process.pid}-${trackerSequence}-${(Date.now() / 1000).toFixed(3)}`;
  },
};
