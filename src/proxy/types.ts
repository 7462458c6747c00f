import type { Readable } from 'node:stream';
import type { Service, Upstream } from '../config/types.ts';
import type { UpstreamPki } from './upstream-tls.ts';

/** Everything needed to send one request upstream; built by the gateway after the plugin chain. */
export interface UpstreamRequest {
  readonly method: string;
  /** Path and query, exactly as they go upstream. */
  readonly pathAndQuery: string;
  /** Final headers for the upstream (hop-by-hop already removed, X-Forwarded-* set, Host set). */
  readonly headers: Record<string, string | string[]>;
  /** The client's request body, streamed; null when there is none. */
  readonly body: Readable | null;
  readonly service: Service;
  /** Set when `service.host` names an Upstream. */
  readonly upstream?: Upstream;
  /** Inputs for consistent hashing (`hash_on`). */
  readonly hashInputs?: HashInputs;
  /**
   * Where `service.client_certificate` and `service.ca_certificates` point: the snapshot the
   * service belongs to. Needed only when the service sets them.
   */
  readonly pki?: UpstreamPki;
}

export interface HashInputs {
  readonly consumerId?: string;
  readonly clientIp: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly cookies?: Readonly<Record<string, string>>;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly uriCaptures: Readonly<Record<string, string>>;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** Streamed, never buffered whole. */
  readonly body: Readable;
  /** `host:port` of the target that answered. */
  readonly target: string;
  readonly latencyMs: number;
}
