import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's headless Chromium, driven by playwright-core, as a person's phone-sized browser: the
 * flags keep it from reaching out of this machine (the network is closed), and its profile is new.
 */
export async function openBrowser(
  options: { httpCredentials?: { username: string; password: string } } = {},
): Promise<{ browser: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...(options.httpCredentials ? { httpCredentials: options.httpCredentials } : {}),
    viewport: { width: 412, height: 915 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  return {
    browser,
    page,
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A full-page screenshot in the test run's folder (removed after the run; set STATUS_PAGE_SCREENSHOTS
 * to a folder to keep a copy there, to look at).
 */
export async function shoot(page: Page, name: string): Promise<string> {
  const path = join(process.env.TMPDIR ?? tmpdir(), name);
  await page.screenshot({ path, fullPage: true });
  const keep = process.env.STATUS_PAGE_SCREENSHOTS;
  if (keep) {
    await mkdir(keep, { recursive: true });
    await copyFile(path, join(keep, name));
  }
  return path;
}
