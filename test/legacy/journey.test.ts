// The whole pattern B journey on one service (npm start's parts: built-in SIP engine, RTP endpoint,
// PostgreSQL, SMTP catcher, settings site): SIPp calls the legacy IVR and sets the 着信お知らせメール
// temp password → the legacy site in a phone-sized browser → パスワード (4–8) → destination and
// テストメール送信 → 開始 → a SIPp call to the line, unanswered, is mailed with pattern B's wording.
// Then 設備変更工事 moves a contract to pattern A and the legacy IVR refuses it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCaughtMails } from '../../src/mail/catcher.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { readNotifySettings } from '../../src/store/notify-settings.ts';
import { ACCESS, SUBSCRIBERS, startIvrHarness, type IvrHarness } from '../ivr/harness.ts';
import { jst, mailsTo, type Mailbox } from '../mail/mailbox.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, startSipp } from '../support/sipp.ts';
import { heading, legacyLogIn, setFirstPassword } from './support.ts';
import { refusals } from '../support/site.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
// WB1's main number: the one ivr-b-chakushin.xml keys in as the contract number (password 12345678).
const NUMBER = '0722221111';
const ADDRESS = 'keitai.0722221111@example.jp';
const CALLER = '0612345678';

let h: IvrHarness;
let b: TestBrowser;
let linePort: number;
let mailbox: Mailbox;
const wb1 = () => SUBSCRIBERS.contracts.find((c) => c.id === 'WB1')!;

beforeAll(async () => {
  h = await startIvrHarness();
  linePort = await freePort('udp');
  // The line itself answers at a SIPp UAS (the notify B2BUA forwards there).
  const contract = wb1();
  await applyProvisioning(h.db.pool, {
    contracts: [{ ...contract, numbers: contract.numbers.map((n) => (n.number === NUMBER ? { ...n, target: `sip:${NUMBER}@127.0.0.1:${linePort}` } : n)) }],
  });
  const dir = h.service.smtpCatcher!.dir;
  mailbox = { list: () => listCaughtMails(dir) };
  b = await openBrowser('phone');
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

describe('pattern B journey', () => {
  it('legacy IVR → legacy site → テストメール送信 → 開始 → an unanswered call is mailed in pattern B wording', async () => {
    const record = await h.ivrCall((await h.call('ivr-b-chakushin.xml', { caller: NUMBER, dialled: ACCESS.B })).callId);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'B', unit: 'chakushin_mail', target: NUMBER });

    const url = `http://127.0.0.1:${h.service.sitePort}`;
    const { page } = b;
    await legacyLogIn(page, url, NUMBER, '12345678');
    expect(await heading(page)).toBe('パスワード設定');
    await setFirstPassword(page, '12345678', '1234');
    expect(await refusals(page)).toContain('数字のみのパスワードは設定できません。');
    await setFirstPassword(page, '12345678', 'ke1tai');
    expect(await heading(page)).toBe('メインメニュー');

    await page.getByRole('link', { name: '送信先メールアドレス登録／確認' }).click();
    await page.getByLabel('送信先メールアドレス1').fill(ADDRESS);
    await page.getByLabel('送信する1').check();
    await page.getByRole('button', { name: 'テストメール送信1' }).click();
    expect(await page.getByRole('status').textContent()).toBe(`送信先メールアドレス1（${ADDRESS}）へテストメールを送信しました。正しくメールが届くことをご確認ください。`);
    const [test] = await mailsTo(mailbox, ADDRESS, 1);
    expect(test!.from).toBe('number_info@hikari.msd.isp.ntt-west.co.jp');
    expect(test!.text).toContain('このメールは「着信お知らせメール」の送信テストです。');
    expect(test!.text).toContain('※各種設定は、サービス設定ホームページから実施してください。');
    // The typed row is still there: now 設定 saves it.
    expect(await page.getByLabel('送信先メールアドレス1').inputValue()).toBe(ADDRESS);
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');

    await page.getByRole('link', { name: 'メインメニューへ' }).click();
    await page.getByRole('link', { name: '開始／停止設定' }).click();
    await page.getByLabel('開始').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    expect(await readNotifySettings(h.db.pool, NUMBER)).toMatchObject({ started: true, destinations: [{ position: 1, address: ADDRESS, send: true }] });

    // A caller lets the line ring, then gives up.
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 20_000 });
    const caller = await runSipp({
      scenario: SCEN('notify-uac-cancel'), remote: { port: h.service.sipAddress!.port }, service: NUMBER, calls: 1,
      keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' },
      extraArgs: ['-d', '1000'], timeoutMs: 20_000,
    });
    expect(caller.exitCode, sippSummary(caller)).toBe(0);
    const lineDone = await line.done;
    expect(lineDone.exitCode, sippSummary(lineDone)).toBe(0);

    const mails = await mailsTo(mailbox, ADDRESS, 2);
    expect(mails).toHaveLength(2);
    const mail = mails.find((m) => m.subject.startsWith('着信通知'))!;
    const { rows } = await h.db.pool.query('select invite_at from incoming_call where called_number = $1', [NUMBER]);
    expect(mail.subject).toBe(`着信通知（${NUMBER}着）`);
    expect(mail.from).toBe('number_info@hikari.msd.isp.ntt-west.co.jp');
    expect(mail.text).toBe(
      [
        `着信日時:${jst(rows[0].invite_at)}`, `発信者通知番号:${CALLER}`, '非通知理由:', '呼出時間:1秒', '着信状態:応答なし', '',
        '------', 'NTT西日本　「着信お知らせメール」', '※各種設定は、サービス設定ホームページから実施してください。', 'https://www.hikari.msd.isp.ntt-west.co.jp/',
        '※本メールは送信専用のため返信できません。', '',
      ].join('\n'),
    );
    await page.getByRole('link', { name: 'メインメニューへ' }).click();
    await page.getByRole('button', { name: '終了' }).click();
    expect(await heading(page)).toBe('設定の終了');
  });

  it('設備変更工事: once the contract is pattern A, the legacy IVR gives the not-in-service guidance', async () => {
    const wb2 = SUBSCRIBERS.contracts.find((c) => c.id === 'WB2')!;
    await applyProvisioning(h.db.pool, { contracts: [{ ...wb2, pattern: 'A' }] });
    const record = await h.ivrCall((await h.call('ivr-reject-announce.xml', { caller: '0722231111', dialled: ACCESS.B })).callId);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'B', caller: '0722231111', reason: 'wrong_access_number', unit: null, target: null });
  });
});
