import { request } from 'undici';

/** An Admin API answer: status, headers and the parsed JSON body (undefined when empty). */
export interface AdminAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
}

export interface AdminCall {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  readonly contentType?: string;
}

/** Calls the Admin API at `baseUrl` and parses its JSON answer; for tests. */
export async function admin<T = Record<string, unknown>>(baseUrl: string, path: string, call: AdminCall = {}): Promise<AdminAnswer<T>> {
  const isText = typeof call.body === 'string';
  const payload = call.body === undefined ? undefined : isText ? (call.body as string) : JSON.stringify(call.body);
  const contentType = call.contentType ?? (payload === undefined ? undefined : 'application/json');
  const res = await request(`${baseUrl}${path}`, {
    method: call.method ?? (payload === undefined ? 'GET' : 'POST'),
    ...(payload === undefined ? {} : { body: payload }),
    headers: contentType ? { 'content-type': contentType } : {},
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** A list page as the Admin API sends it. */
export interface PageBody<E = Record<string, unknown>> {
  readonly data: E[];
  readonly next: string | null;
  readonly offset?: string;
}
