#!/usr/bin/env node
// Takes a screenshot of the running console for the README: Debian's chromium driven by
// playwright-core (no browser download). Usage: node console/scripts/screenshot.mjs [out.png]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const info = JSON.parse(readFileSync(join(process.env.RTM_STATE_DIR ?? join(root, '.rtm'), 'cluster.json'), 'utf8'));
const out = process.argv[2] ?? join(root, 'docs', 'console.png');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(info.console);
  await page.waitForSelector('table tbody tr', { timeout: 15_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  console.log(`screenshot: ${out}`);
} finally {
  await browser.close();
}
