/**
 * How the operator commands talk to a running node (admin or internal listener): one request,
 * and every failure turned into one clear line (a {@link CliError}) for `sluice: <message>`.
 *
 * @example
 *   const admin = { name: 'admin API', url: 'http://127.0.0.1:8001' };
 *   const status = await callJson(admin, '/status');
 *   // unreachable → CliError('cannot reach the admin API at http://127.0.0.1:8001: connect ECONNREFUSED')
 *   // 404         → CliError('the admin API answered 404: Not found')
 */
import { STATUS_CODES } from 'node:http';
import { request } from 'undici';

/** A failure the CLI prints as one line and exits 1 for. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** A listener the CLI talks to: what to call it in messages, and its base URL. */
export interface Endpoint {
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Answer {
  readonly status: number;
  readonly text: string;
}

/** Seconds to wait for an answer before giving up. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** Checks a base URL given by a flag or the environment. */
export function parseBaseUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`invalid ${what} URL '${value}': expected http(s)://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid ${what} URL '${value}': expected http(s)://host:port`);
  return url.toString().replace(/\/+$/, '');
}

/** Why a request never got an answer, in a few words (`connect ECONNREFUSED`). */
function networkReason(error: unknown): string {
  const e = error as { code?: string; syscall?: string; message?: string };
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  if (e.syscall !== undefined && e.code !== undefined) return `${e.syscall} ${e.code}`;
  return e.code ?? e.message ?? String(error);
}

/** One request; resolves with any HTTP answer, rejects with a CliError when there is none. */
export async function call(endpoint: Endpoint, path: string, init: { method?: string; body?: Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  try {
    const res = await request(`${endpoint.url}${path}`, {
      method: (init.method ?? 'GET') as 'GET',
      headers: { ...endpoint.headers, ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    return { status: res.statusCode, text: await res.body.text() };
  } catch (error) {
    throw new CliError(`cannot reach the ${endpoint.name} at ${endpoint.url}: ${networkReason(error)}`);
  }
}

/** Kong's `message` from an error answer, or the status text when the body has none. */
export function errorMessage(answer: Answer): string {
  try {
    const body = JSON.parse(answer.text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message !== '') return body.message;
  } catch {
    // not JSON: fall through to the status text
  }
  return STATUS_CODES[answer.status] ?? 'error';
}

/** Rejects with a CliError unless the answer is 2xx. */
export function expectOk(endpoint: Endpoint, answer: Answer): Answer {
  if (answer.status >= 200 && answer.status < 300) return answer;
  throw new CliError(`the ${endpoint.name} answered ${answer.status}: ${errorMessage(answer)}`);
}

/** GET (or another method) expecting a 2xx JSON answer. */
export async function callJson<T>(endpoint: Endpoint, path: string, method = 'GET'): Promise<T> {
  const answer = expectOk(endpoint, await call(endpoint, path, { method, headers: { accept: 'application/json' } }));
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    throw new CliError(`the ${endpoint.name} at ${endpoint.url} did not answer JSON on ${path}`);
  }
}
