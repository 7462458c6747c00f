import assert from 'node:assert/strict';
import { request } from 'undici';

/** One scrape: `name{label="value",...}` (labels sorted by name) → value, plus the TYPE lines. */
export interface Scrape {
  readonly samples: ReadonlyMap<string, number>;
  readonly types: ReadonlyMap<string, string>;
  readonly text: string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/**
 * A small parser for the Prometheus text format (0.0.4): every sample line must parse, label
 * values unescaped; a malformed line fails the test.
 */
export function parseMetrics(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      types.set(name, type);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: [string, string][] = [];
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const at = LABEL.lastIndex;
      const l = LABEL.exec(body);
      assert.ok(l, `bad labels at ${at} in: ${line}`);
      labels.push([l[1] ?? '', (l[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')]);
    }
    // Prometheus reads floats as Go's ParseFloat does: `NaN` in any case (prom-client writes `Nan`).
    const raw = m[3] ?? '';
    const value = /^nan$/i.test(raw) ? NaN : Number(raw);
    assert.ok(/^nan$/i.test(raw) || !Number.isNaN(value), `bad value in: ${line}`);
    const key = seriesKey(m[1] ?? '', Object.fromEntries(labels));
    assert.ok(!samples.has(key), `duplicate series ${key}`);
    samples.set(key, value);
  }
  return { samples, types, text };
}

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** GET /metrics on the admin listener, checked and parsed. */
export async function scrape(adminUrl: string): Promise<Scrape> {
  const res = await request(`${adminUrl}/metrics`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(await res.body.text());
}

/** The value of one series; undefined when the scrape does not have it. */
export function sample(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  return s.samples.get(seriesKey(name, labels));
}

/**
 * Scrapes until `name{labels}` equals `value` (state that settles after the client sees its
 * side: a stream's close is counted once the server noticed it). Fails after `timeoutMs`.
 */
export async function waitForSample(adminUrl: string, name: string, labels: Record<string, string>, value: number, timeoutMs = 5000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape(adminUrl);
    const seen = sample(s, name, labels);
    if (seen === value) return s;
    if (Date.now() > deadline) assert.fail(`${seriesKey(name, labels)} stayed ${seen}, expected ${value}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
