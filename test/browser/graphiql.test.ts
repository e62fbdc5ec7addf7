import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';

describe('GraphiQL in a browser with no internet', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves a page whose scripts are all inline (nothing from a CDN)', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('renderYogaGraphiQL');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
  });

  it('runs a catalog query typed into the editor and shows the result', async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    // Any request off this machine would hang or fail here, as it does on a machine without internet.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await page.goto(`${server.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    // Monaco renders spaces as no-break spaces.
    const textOf = async (selector: string): Promise<string> => (await page.locator(selector).first().innerText()).replace(/\u00a0/g, ' ');
    const response = (): Promise<string> => textOf('.graphiql-response');
    /** Types an operation, runs it, and waits for `expected` in the result pane. */
    const run = async (operation: string, expected: string): Promise<void> => {
      const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await editor.waitFor({ state: 'visible', timeout: 30_000 });
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(operation);
      await expect.poll(() => textOf('.graphiql-query-editor'), { timeout: 10_000 }).toContain(operation.slice(0, 24));
      // GraphiQL takes the editor's text after a short debounce: a click right after typing runs nothing, so
      // click until the result shows (running a query twice is harmless).
      await expect
        .poll(
          async () => {
            if (!(await response()).includes(expected)) await page.locator('.graphiql-execute-button').click();
            return response();
          },
          { timeout: 45_000, interval: 1000 },
        )
        .toContain(expected);
    };

    // Operation names match the example GraphiQL opens with, which is how a newcomer starts.
    await run('query Catalog { model(id: "local/echo") { id name contextLength } }', 'Local Echo');
    expect(await response()).toContain('"contextLength": 128000');

    // Subscriptions go over WebSocket from the page; the result pane ends on the last event.
    await run(
      'subscription Stream { completionStream(input: { model: "local/echo", messages: [{ role: USER, content: "streamed into GraphiQL" }] }) { __typename ... on CompletionDone { finishReason } } }',
      '"finishReason": "STOP"',
    );
    expect(outside).toEqual([]);
    await page.close();
  }, 120_000);
});
