import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../scripts/dashboard.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startDelayedUpstream, type DelayedUpstream } from '../fakes/delay.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'sb-admin-dashboard-browser-test-0123456789';
const asAdmin = { authorization: `Bearer ${ADMIN}` };
/** Written by every run for a reviewer to look at; git-ignored. */
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

const COMPLETE = `mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id usage { totalTokens } } }`;
const ask = (model: string, content: string) => ({ input: { model, messages: [{ role: 'USER', content }] } });

interface UsageFigures {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

describe('the dashboard in a browser with no internet', () => {
  let bundle: string;
  let fake: FakeUpstream;
  let openai: DelayedUpstream;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the pages asked for, over HTTP and WebSocket. */
  const requested: string[] = [];
  const outside: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does)`);
    bundle = mkdtempSync(join(tmpdir(), 'switchboard-dashboard-'));
    await buildDashboard(bundle);
    mkdirSync(SCREENSHOTS, { recursive: true });
    fake = await startFakeOpenAI();
    openai = await startDelayedUpstream(fake);
    server = await startTestServer(
      {
        SWITCHBOARD_ADMIN_KEY: ADMIN,
        OPENAI_API_KEY: FAKE_OPENAI_KEY,
        OPENAI_BASE_URL: openai.url,
        // One failed request opens a circuit, and nothing is retried: the providers test opens one on purpose.
        SWITCHBOARD_BREAKER_FAILURES: '1',
        SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '1',
        SWITCHBOARD_BREAKER_COOLDOWN_MS: '600000',
        SWITCHBOARD_MAX_RETRIES: '0',
      },
      { dashboardDirectory: bundle },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Any request off this machine would hang or fail here, as it does on a machine without internet.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url.startsWith(server.url)) return route.continue();
      outside.push(url);
      return route.abort();
    });
    // The admin key is entered once, in the page, and kept for the browser session (this tab): every page after
    // this runs in the same tab, as a person clicking through would.
    page = await context.newPage();
    page.on('websocket', (socket) => requested.push(socket.url()));
    await page.goto(`${server.url}/dashboard`);
    await page.getByTestId('key-button').click();
    await page.getByLabel('Admin key').fill(ADMIN);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByTestId('key-button').filter({ hasText: 'Key set' }).waitFor();

    // A few completions through the fake, and one through the local provider.
    for (const text of ['first', 'second', 'a third, somewhat longer question']) {
      const body = await server.graphql(COMPLETE, ask('openai/gpt-4o-mini', text), asAdmin);
      expect(body.errors).toBeUndefined();
    }
    expect((await server.graphql(COMPLETE, ask('local/echo', 'echo this'), asAdmin)).errors).toBeUndefined();
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await openai?.close();
    await fake?.close();
    if (bundle) rmSync(bundle, { recursive: true, force: true });
  });

  /** Loads the dashboard afresh at a page, in the tab that holds the key. */
  const open = async (hash: string, viewport = { width: 1280, height: 900 }): Promise<Page> => {
    await page.setViewportSize(viewport);
    await page.goto(`${server.url}/dashboard#/${hash}`);
    await page.reload();
    return page;
  };
  const shoot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('serves the page with a strict CSP, revalidated, and its hashed assets cached for a year', async () => {
    const html = await fetch(`${server.url}/dashboard`);
    expect(html.status).toBe(200);
    expect(html.headers.get('cache-control')).toBe('no-cache');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toMatch(/connect-src http:\/\/127\.0\.0\.1:\d+\/graphql https:\/\/127\.0\.0\.1:\d+\/graphql ws:\/\/127\.0\.0\.1:\d+\/graphql wss:/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const text = await html.text();
    expect(text).not.toMatch(/<script>|<style>|https?:\/\//);
    const asset = /src="(\/dashboard\/assets\/app-[A-Z0-9]+\.js)"/.exec(text)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${server.url}${asset!}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const again = await fetch(`${server.url}/dashboard`, { headers: { 'if-none-match': html.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    expect((await fetch(`${server.url}/dashboard/assets/app-NOPE.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/dashboard`, { method: 'POST' })).status).toBe(405);
    // A hostile Host header cannot write into the policy.
    const hostile = await fetch(`${server.url}/dashboard`, { headers: { host: "evil.example; script-src 'unsafe-inline'" } });
    expect(hostile.headers.get('content-security-policy') ?? '').not.toContain('unsafe-inline');
  });

  it('overview: charts with data points, and figures equal to the usage query for the same window', async () => {
    await open('overview');
    await expect.poll(async () => Number(await page.getByTestId('chart-requests').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(0);
    for (const chart of ['chart-requests', 'chart-tokens', 'chart-spend']) {
      expect(Number(await page.getByTestId(chart).getAttribute('data-points'))).toBeGreaterThan(0);
      // uPlot drew it: a canvas, a labelled axis and a legend.
      expect(await page.getByTestId(chart).locator('canvas').count()).toBeGreaterThan(0);
      expect(await page.getByTestId(chart).locator('.u-legend').count()).toBe(1);
    }
    const figures = page.getByTestId('figures');
    const from = await figures.getAttribute('data-from');
    const to = await figures.getAttribute('data-to');
    const usage = await server.graphql<{ usage: UsageFigures[] }>('query($filter: UsageFilter) { usage(filter: $filter) { requests errors promptTokens completionTokens costUsd } }', { filter: { from, to } }, asAdmin);
    const total = usage.data!.usage[0]!;
    expect(total.requests).toBeGreaterThanOrEqual(4);
    expect(Number(await page.getByTestId('figure-requests').getAttribute('data-value'))).toBe(total.requests);
    expect(Number(await page.getByTestId('figure-tokens').getAttribute('data-value'))).toBe(total.promptTokens + total.completionTokens);
    expect(Number(await page.getByTestId('figure-spend').getAttribute('data-value'))).toBe(total.costUsd);
    expect(Number(await page.getByTestId('figure-error-rate').getAttribute('data-value'))).toBe(total.errors / total.requests);
    // Tables sort by a click on a column: requests, most first (3 through the fake, 1 local), then reversed.
    const models = page.getByTestId('top-models');
    await models.getByRole('button', { name: 'Requests' }).click();
    expect(await models.locator('tbody tr').first().innerText()).toContain('openai/gpt-4o-mini');
    await models.getByRole('button', { name: 'Requests' }).click();
    expect(await models.locator('tbody tr').first().innerText()).toContain('local/echo');
    await shoot(page, 'overview');
    // The day window charts by the hour and agrees with the same query.
    await page.getByTestId('window-day').click();
    await expect.poll(async () => (await figures.getAttribute('data-from')) !== from, { timeout: 10_000 }).toBe(true);
    const dayFrom = await figures.getAttribute('data-from');
    const dayTo = await figures.getAttribute('data-to');
    expect(Date.parse(dayTo!) - Date.parse(dayFrom!)).toBe(86_400_000);
    const day = await server.graphql<{ usage: UsageFigures[] }>('query($filter: UsageFilter) { usage(filter: $filter) { requests } }', { filter: { from: dayFrom, to: dayTo } }, asAdmin);
    await expect.poll(async () => Number(await page.getByTestId('figure-requests').getAttribute('data-value'))).toBe(day.data!.usage[0]!.requests);
    expect(Number(await page.getByTestId('chart-requests').getAttribute('data-points'))).toBeGreaterThan(0);
  }, 60_000);

  it('live: a new generation shows within a second of it finishing, and opens its detail page', async () => {
    await open('live');
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor({ timeout: 15_000 });
    const body = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, ask('openai/gpt-4o-mini', 'watch me arrive'), asAdmin);
    const finished = Date.now();
    const id = body.data!.createCompletion.id;
    await page.locator(`[data-generation="${id}"]`).waitFor({ timeout: 1_000 });
    expect(Date.now() - finished).toBeLessThan(1_000);
    // Newest first.
    expect(await page.locator('tbody tr').first().getAttribute('data-generation')).toBe(id);
    await shoot(page, 'live');
    await page.locator(`[data-generation="${id}"] a`).click();
    await page.getByTestId('generation-detail').waitFor();
    expect(await page.getByTestId('attempts').innerText()).toContain('SUCCEEDED');
    expect(await page.getByTestId('cost-breakdown').innerText()).toContain('Completion');
    await shoot(page, 'generation');
  }, 30_000);

  it('providers: shows the breaker a failure opened, and checks a provider on demand', async () => {
    openai.failNext(503);
    const failed = await server.graphql(COMPLETE, ask('openai/gpt-4o-mini', 'this one fails'), asAdmin);
    expect(failed.errors).toBeDefined();
    await open('providers');
    await expect.poll(() => page.getByTestId('breaker-openai').innerText(), { timeout: 15_000 }).toContain('OPEN');
    expect(await page.getByTestId('breaker-local').innerText()).toContain('CLOSED');
    await page.getByTestId('check-openai').click();
    await expect.poll(() => page.getByTestId('check-result-openai').innerText(), { timeout: 15_000 }).toContain('OK');
    await shoot(page, 'providers');
  }, 30_000);

  it('keys: creates a key, shows its secret once, and revokes it', async () => {
    await open('keys');
    await page.getByTestId('keys-table').waitFor();
    const form = page.getByTestId('create-key');
    await form.locator('input[name="name"]').fill('dashboard-made');
    await form.locator('input[name="budget"]').fill('5');
    await form.locator('input[name="rpm"]').fill('60');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('created-secret').locator('code').innerText();
    expect(secret.length).toBeGreaterThan(20);
    const row = page.getByTestId('keys-table').locator('tr', { has: page.locator('[data-key-name="dashboard-made"]') });
    await row.waitFor();
    expect(await row.innerText()).toContain('of $5.00');
    // The new key works until it is revoked.
    const me = (): Promise<{ errors?: unknown[] }> => server.graphql('{ me { id } }', {}, { authorization: `Bearer ${secret}` });
    expect((await me()).errors).toBeUndefined();
    await page.getByTestId('revoke-dashboard-made').click();
    await page.getByTestId('confirm-revoke-dashboard-made').click();
    await expect.poll(() => row.innerText(), { timeout: 10_000 }).toContain('revoked');
    expect((await me()).errors).toBeDefined();
    await shoot(page, 'keys');
  }, 30_000);

  it('catalog: searches models and explains a route with its cost', async () => {
    await open('catalog');
    await page.getByTestId('catalog-search').fill('gpt-4o-mini');
    const row = page.getByTestId('catalog-table').locator('tr', { hasText: 'openai/gpt-4o-mini' }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Plan' }).click();
    await page.getByRole('button', { name: 'Explain and estimate' }).click();
    await expect.poll(() => page.getByTestId('plan-panel').innerText(), { timeout: 10_000 }).toContain('o200k_base');
    // The providers test above opened the only endpoint's circuit; the plan says so.
    expect(await page.getByTestId('plan-panel').innerText()).toContain('skipped: circuit open');
    await shoot(page, 'catalog');
  }, 30_000);

  it('fits a phone: no sideways scrolling on any page', async () => {
    for (const hash of ['overview', 'live', 'providers', 'keys', 'catalog']) {
      await open(hash, { width: 390, height: 844 });
      await page.locator('main h1').waitFor();
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, hash).toBeLessThanOrEqual(0);
      await shoot(page, `phone-${hash}`);
      }
  }, 60_000);

  it('asked for nothing but /graphql and its own assets', () => {
    expect(outside).toEqual([]);
    const paths = requested.map((url) => new URL(url).pathname);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((path) => path !== '/graphql' && path !== '/dashboard' && !path.startsWith('/dashboard/assets/'))).toEqual([]);
    // The live page subscribed over graphql-ws.
    expect(requested.some((url) => url.startsWith('ws://') && url.endsWith('/graphql'))).toBe(true);
  });
});

describe('the dashboard in open local mode', () => {
  let bundle: string;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    bundle = mkdtempSync(join(tmpdir(), 'switchboard-dashboard-open-'));
    await buildDashboard(bundle);
    server = await startTestServer({}, { dashboardDirectory: bundle });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (bundle) rmSync(bundle, { recursive: true, force: true });
  });

  it('just works without a key: figures, live updates and keys', async () => {
    const page = await browser.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith(server.url) ? route.continue() : route.abort()));
    expect((await server.graphql(COMPLETE, ask('local/echo', 'open mode'))).errors).toBeUndefined();
    await page.goto(`${server.url}/dashboard#/overview`);
    await expect.poll(async () => Number(await page.getByTestId('figure-requests').getAttribute('data-value')), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('.error').count()).toBe(0);
    await page.goto(`${server.url}/dashboard#/live`);
    await page.locator('[data-testid="live-state"][data-state="live"]').waitFor({ timeout: 15_000 });
    const body = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, ask('local/echo', 'seen live'));
    await page.locator(`[data-generation="${body.data!.createCompletion.id}"]`).waitFor({ timeout: 5_000 });
    await page.goto(`${server.url}/dashboard#/keys`);
    await page.getByTestId('keys-table').waitFor({ timeout: 10_000 });
    expect(await page.locator('.error').count()).toBe(0);
    await page.close();
  }, 60_000);
});
