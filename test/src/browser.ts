import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (the setup installs it when run as root); playwright-core is pinned to 1.64, whose bundled Chromium is 156 like Debian's. */
export const CHROMIUM = process.env.RTM_CHROMIUM ?? '/usr/bin/chromium';

/** Where the console tests write the README's screenshots. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/console/', import.meta.url));

/**
 * Flags for a headless Chromium on a machine without a network beyond loopback: without the
 * background-networking ones it keeps trying to reach Google's hosts.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** A headless Chromium with its own temporary HOME and XDG folders, and one 1440x900 context. */
export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Closes the browser and removes its folders. */
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run the setup as root, or apt-get install chromium, or set RTM_CHROMIUM`);
  const home = mkdtempSync(join(tmpdir(), 'rtm-chromium-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), XDG_DATA_HOME: join(home, '.local', 'share') };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, env, timeout: 60_000 });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  return {
    browser,
    context,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Saves a 1440x900 screenshot of the page as `docs/console/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Every admin API path a page asks for, to show what a page without a valid token calls. */
export function recordApiCalls(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/admin/api/')) calls.push(url.pathname.slice('/admin/api/'.length));
  });
  return calls;
}
