/**
 * A real browser over HTTP/2: Debian's Chromium (driven by playwright-core) loads a page from
 * Sluice's `ssl http2` listener that opens 8 EventSource streams to the same origin, and one
 * publish reaches all 8. Over HTTP/1.1 Chromium holds at most six connections per origin, so
 * two of the streams would never open; over h2 they share one connection.
 *
 * Outside CI the test is skipped, with the reason, when Chromium is not installed; with
 * `CI=true` (`.ci/run` installs `chromium`) a missing browser fails it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startH2Gateway } from '../helpers/h2.ts';
import { heldStreams } from '../helpers/streams.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STREAMS = 8;

const PAGE = `<!doctype html>
<title>eight streams</title>
<script>
  window.received = [];
  window.sources = [];
  for (let i = 0; i < ${STREAMS}; i++) {
    const source = new EventSource('/sub/room-' + i);
    source.onmessage = (event) => window.received.push(i + ':' + event.data);
    window.sources.push(source);
  }
</script>`;

const CONFIG = `_format_version: "3.0"
routes:
  - name: page
    paths: [/page]
    plugins:
      - name: request-termination
        config: { status_code: 200, content_type: text/html, body: ${JSON.stringify(PAGE)} }
  - name: sub
    paths: ["~/sub/(?<ch>[a-z0-9-]+)$"]
    plugins: [{ name: pubsub-subscriber, config: { channels: ["$(uri_captures.ch)", "everyone"], transports: [eventsource] } }]
`;

test(`Chromium opens ${STREAMS} EventSource streams to one origin over h2 and receives a publish on all of them`, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const why = `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') throw new Error(`${why} (required in CI)`);
    return void t.skip(why);
  }
  const gw = await startH2Gateway(CONFIG);
  // The test CA is not in the browser's store: certificate errors are ignored for this throwaway origin.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--ignore-certificate-errors', '--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://localhost:${gw.proxyPort}/page`);
    assert.equal(response?.status(), 200);
    // (Page-side code as strings: this project's types have no DOM.)
    const protocol = await page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol');
    assert.equal(protocol, 'h2');
    await page.waitForFunction(`window.sources.length === ${STREAMS} && window.sources.every((source) => source.readyState === EventSource.OPEN)`);
    await heldStreams(gw.gateway, STREAMS);
    await gw.gateway.hub.publish('everyone', { data: Buffer.from('hello, all eight') });
    await page.waitForFunction(`window.received.length === ${STREAMS}`);
    const received = await page.evaluate<string[]>('window.received');
    assert.deepEqual(received.sort(), Array.from({ length: STREAMS }, (_, i) => `${i}:hello, all eight`));
  } finally {
    await browser.close();
    await gw.close();
  }
});
