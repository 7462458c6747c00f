import { request } from 'undici';

/** A JSON answer of the Admin API. */
export interface AdminAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
}

/** One Admin API request; the body is parsed as JSON when there is one. */
export async function admin<T = Record<string, unknown>>(adminUrl: string, path: string, method = 'GET'): Promise<AdminAnswer<T>> {
  const res = await request(`${adminUrl}${path}`, { method: method as 'GET' });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/**
 * Waits until `check` holds on `GET path` (streams open asynchronously after the client sees
 * its response head): re-asks on every turn of the event loop, never sleeps.
 */
export async function waitForAdmin<T>(adminUrl: string, path: string, check: (answer: AdminAnswer<T>) => boolean): Promise<AdminAnswer<T>> {
  let last: AdminAnswer<T> | undefined;
  for (let attempt = 0; attempt < 500; attempt++) {
    last = await admin<T>(adminUrl, path);
    if (check(last)) return last;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`GET ${path} never satisfied the check; last answer ${JSON.stringify(last?.body)}`);
}
