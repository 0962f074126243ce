// End to end: what a subscriber sets on the settings site is what the next call does. 転送先 and
// 無条件転送 set in Chromium on the ボイスワープ pages; then a SIPp call to the number is forwarded to
// the SIPp 転送先 with Diversion, the line never rung. 停止 on the site, and the next call rings the line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { freePort } from '../support/ports.ts';
import { heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';
import { CALLER, DESTINATION, header, ok, okSide, responsesTo, startWarpStack, traced, untouched, type WarpStack } from './stack.ts';

const NUMBER = '0630009001';
const PW = 'k7q2m9x4';

let h: SiteHarness;
let stack: WarpStack;
let b: TestBrowser;
let linePort: number;

beforeAll(async () => {
  linePort = await freePort('udp');
  h = await startSiteHarness({
    contracts: [{
      id: 'W-site', region: 'west', pattern: 'A', authUnit: 'number',
      numbers: [{ number: NUMBER, role: 'main', services: ['voice_warp'], target: `sip:${NUMBER}@127.0.0.1:${linePort}` }],
    }],
  });
  await h.setPassword(NUMBER, PW);
  // The call path on the site's database: the same rows the site writes are what the call reads.
  stack = await startWarpStack(h.db, parseConfig({ notify: { codecRetryWindowSec: 0, maxRingSec: 30 } }));
  b = await openBrowser('desktop');
});
afterAll(async () => {
  await b?.close();
  await stack?.stop();
  await h?.stop();
});

/** 開始／停止設定 as the subscriber fills it in. */
async function startPage(started: '開始' | '停止') {
  await b.page.goto(`${h.url}/voice-warp/${NUMBER}`);
  await b.page.getByRole('link', { name: '開始／停止設定', exact: true }).click();
  await b.page.getByRole('radio', { name: started }).check();
  await b.page.getByRole('radio', { name: '無条件転送' }).check();
  await b.page.getByRole('button', { name: '設定', exact: true }).click();
  expect(await b.page.getByRole('status').textContent()).toBe('設定しました。');
}

describe('ボイスワープ set on the settings site', () => {
  it('is in effect for the next call: 無条件転送 to the 転送先 set on the site forwards it with Diversion; 停止 rings the line again', async () => {
    const toLine = () => stack.call({ called: NUMBER, linePort, caller: 'answer', callerMs: 200, line: { scenario: 'answer' } });

    // As delivered (停止): the line rings.
    const before = await toLine();
    ok(before);
    okSide(before.line);
    untouched(before.dest);

    await logIn(b.page, h.url, NUMBER, PW);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    await b.page.getByRole('link', { name: 'ボイスワープ' }).click();
    expect(await heading(b.page)).toBe('サービスメニュー（ボイスワープ）');
    await b.page.getByRole('link', { name: '転送先電話番号設定' }).click();
    await b.page.getByLabel('転送先電話番号').fill(DESTINATION);
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await b.page.getByRole('status').textContent()).toBe('設定しました。');
    await startPage('開始');

    const forwarded = await stack.call({ called: NUMBER, linePort, caller: 'answer', callerMs: 200, dest: { scenario: 'answer' } });
    ok(forwarded);
    okSide(forwarded.dest);
    untouched(forwarded.line);
    expect(responsesTo(forwarded.caller)).toEqual([181, 180, 200]);
    const invite = traced(forwarded.dest!, /^INVITE /)!;
    expect(invite.text).toMatch(new RegExp(`^INVITE sip:${DESTINATION}@127\\.0\\.0\\.1:${stack.nextHopPort} SIP/2\\.0`));
    expect(header(invite.text, 'Diversion')).toMatch(new RegExp(`^<sip:${NUMBER}@127\\.0\\.0\\.1:${stack.engine.sipAddress.port}>;reason=unconditional;counter=1$`));
    expect(header(invite.text, 'From')).toMatch(new RegExp(`^<sip:${CALLER}@127\\.0\\.0\\.1>;tag=`));

    await startPage('停止');
    const after = await toLine();
    ok(after);
    okSide(after.line);
    untouched(after.dest);
  }, 90_000);
});
