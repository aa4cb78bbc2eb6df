/**
 * Debian's Chromium driven by Playwright (playwright-core never downloads a browser of its own). Used by
 * the end-to-end tests of the renderer and by the UI benchmark. Outside CI a test file without Chromium
 * is skipped; in CI (CI=true) `launchChromium` fails naming what is missing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SWARMDESK_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying (and
 * failing) to reach Google's services, and as root it needs --no-sandbox.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumTestsSkipped(): boolean {
  return process.env.CI !== 'true' && !existsSync(CHROMIUM_PATH);
}

export interface LaunchedChromium {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set SWARMDESK_CHROMIUM)`);
  // Playwright gives every launch a fresh temporary profile and removes it on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 120_000 });
  return { browser, close: () => browser.close() };
}
