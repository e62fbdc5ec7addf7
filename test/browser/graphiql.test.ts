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
    const run = async (operation: string): Promise<void> => {
      const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await editor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText(operation);
      await page.locator('.graphiql-execute-button').click();
    };
    // Monaco renders spaces as no-break spaces.
    const response = async (): Promise<string> => (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');

    // Operation names match the example GraphiQL opens with, which is how a newcomer starts.
    await run('query Catalog { model(id: "local/echo") { id name contextLength } }');
    await expect.poll(response, { timeout: 20_000 }).toContain('Local Echo');
    expect(await response()).toContain('"contextLength": 128000');

    // Subscriptions go over WebSocket from the page; the result pane ends on the last event.
    await run('subscription Stream { completionStream(input: { model: "local/echo", messages: [{ role: USER, content: "streamed into GraphiQL" }] }) { __typename ... on CompletionDone { finishReason } } }');
    await expect.poll(response, { timeout: 20_000 }).toContain('"finishReason": "STOP"');
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);
});
