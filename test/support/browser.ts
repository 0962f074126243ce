// A real browser for site tests: Debian's chromium driven by playwright-core, headless, with a
// fresh profile each time. Tests find controls by role and accessible name, as a subscriber reads them.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  /** A phone-sized screen (the guides show smartphone screens). */
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

export interface TestBrowser {
  page: Page;
  context: BrowserContext;
  /** Another window of the same browser (same cookies): the guides' "two windows" case. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function openBrowser(viewport: ViewportName = 'desktop'): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'chakushin-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORTS[viewport],
    isMobile: viewport === 'phone',
    hasTouch: viewport === 'phone',
    locale: 'ja-JP',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    page,
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
