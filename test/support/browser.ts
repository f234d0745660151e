import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';

/**
 * A headless Chromium that a fresh machine has without any system package: the one shipped in the
 * `@sparticuz/chromium` npm package (unpacked into the temp folder on first use). Tests that need
 * a real browser take it from here, so `npm ci && npm test` needs nothing but Node and Java.
 * The flags keep it off the network, which this machine does not have.
 */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    headless: true,
    args: [
      ...chromium.args,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
