// 故障・回復通知 detection with real parts: SIPp lines answering (or not) the prober's OPTIONS through
// the built-in engine, PostgreSQL, the outbox and the SMTP catcher; intervals injected short.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectNotifyApp } from '../notify/stack.ts';
import { runSipp } from '../support/sipp.ts';
import { listAudit } from '../../src/store/audit.ts';
import { readBulkForwardState } from '../../src/store/bulk-forward-settings.ts';
import { listLineEvents } from '../../src/store/line-probes.ts';
import { jst } from '../mail/mailbox.ts';
import { contract, lineIn, mailsTo, provision, SECRET, SippLine, startStack, subjectWith, waitFor, type Stack } from './harness.ts';

let stack: Stack | undefined;
const lines: SippLine[] = [];
async function newLine(): Promise<SippLine> {
  const l = await SippLine.create();
  lines.push(l);
  return l;
}
afterEach(async () => {
  await Promise.all(lines.splice(0).map((l) => l.stop()));
  await stack?.close();
  stack = undefined;
});

/** Enough probe rounds that a second mail, if there were one, would have been written. */
const SETTLE_MS = 4_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('故障・回復通知: detection', () => {
  it('a line that answers OPTIONS 405 is up, and nothing is mailed', async () => {
    stack = await startStack();
    const line = await newLine();
    await line.answer(405);
    await provision(stack, contract({ id: 'F405', numbers: [{ number: '0611110405', target: line.target }] }));
    await stack.startProber();
    const view = await lineIn(stack, 'F405', line.target, 'up');
    expect(view).toMatchObject({ state: 'up', lastResult: 'answered', lastStatus: 405, numbers: ['0611110405'] });
    await sleep(1_000);
    expect(await stack.mails('noc.f405@example.jp')).toEqual([]);
    expect(await listLineEvents(stack.db.pool, { contractId: 'F405', limit: 10 })).toEqual([]);
  });

  it('a line that goes silent: one 故障 mail, 一括転送 started by the service; back: one 回復 mail, 一括転送 stopped', async () => {
    stack = await startStack();
    const line = await newLine();
    await line.answer();
    const numbers = [{ number: '0611112222', target: line.target }, { number: '0611113333', target: line.target }];
    await provision(stack, contract({
      id: 'FDOWN', numbers, contractorName: '株式会社テスト', siteInfo: '大阪本社',
      bulkForward: { destinations: [{ number: '0611112222', destination: '0312345678' }] },
    }));
    await stack.startProber();
    await lineIn(stack, 'FDOWN', line.target, 'up');

    await line.silent();
    const wentSilent = Date.now();
    const down = await lineIn(stack, 'FDOWN', line.target, 'down');
    expect(down?.lastResult).toBe('timeout');
    const [mail] = await mailsTo(stack.catcher, 'noc.fdown@example.jp', 1, 15_000, subjectWith('故障'));
    expect(mail?.subject).toBe('故障通知（大阪本社）');
    expect(mail?.text).toContain('状態:故障');
    expect(mail?.text).toContain(`検知日時:${jst(down!.stateSince)}`);
    expect(mail?.text).toContain('契約者名:株式会社テスト');
    expect(mail?.text).toContain('拠点情報:大阪本社');
    expect(mail?.text).toContain('対象電話番号:0611112222、0611113333');
    expect(mail?.text).toContain('一括転送:自動で開始しました');
    expect(mail?.text).toContain('「故障・回復通知機能」');
    expect(down!.stateSince.getTime() - wentSilent).toBeLessThan(15_000);
    expect(await readBulkForwardState(stack.db.pool, 'FDOWN')).toMatchObject({ started: true, startedBy: 'service' });
    const [start] = await listAudit(stack.db.pool, { number: '0611112222', action: 'bulk_forward.start', limit: 5 });
    expect(start).toMatchObject({ actor: 'service', subject: '0611112222', detail: { contract: 'FDOWN', cause: '故障', automatic: true } });

    await sleep(SETTLE_MS);
    expect(await stack.mails('noc.fdown@example.jp')).toHaveLength(1);

    await line.answer();
    await lineIn(stack, 'FDOWN', line.target, 'up');
    const [, back] = await mailsTo(stack.catcher, 'noc.fdown@example.jp', 2, 15_000);
    expect(back?.subject).toBe('回復通知（大阪本社）');
    expect(back?.text).toContain('状態:回復');
    expect(back?.text).toContain('一括転送:自動で停止しました');
    expect(await readBulkForwardState(stack.db.pool, 'FDOWN')).toMatchObject({ started: false, startedBy: null });
    expect((await listAudit(stack.db.pool, { number: '0611112222', action: 'bulk_forward.stop', limit: 5 }))[0]?.actor).toBe('service');

    await sleep(SETTLE_MS);
    expect((await stack.mails('noc.fdown@example.jp')).map((m) => m.subject.slice(0, 4))).toEqual(['故障通知', '回復通知']);
    expect((await listLineEvents(stack.db.pool, { contractId: 'FDOWN', limit: 10 })).map((e) => [e.kind, e.bulkForward, e.mails])).toEqual([
      ['up', 'stopped', 1],
      ['down', 'started', 1],
    ]);
  });

  it('a contract with two lines: 一括転送 started once, kept while one line is still 故障, stopped with the last 回復', async () => {
    stack = await startStack();
    const [a, b] = [await newLine(), await newLine()];
    await Promise.all([a.answer(), b.answer()]);
    await provision(stack, contract({
      id: 'FPAIR', numbers: [{ number: '0611113001', target: a.target }, { number: '0611113002', target: b.target }],
      bulkForward: { destinations: [{ number: '0611113001', destination: '0312345678' }] },
    }));
    await stack.startProber();
    await lineIn(stack, 'FPAIR', a.target, 'up');
    await lineIn(stack, 'FPAIR', b.target, 'up');
    await Promise.all([a.silent(), b.silent()]);
    await lineIn(stack, 'FPAIR', a.target, 'down');
    await lineIn(stack, 'FPAIR', b.target, 'down');
    await a.answer();
    await lineIn(stack, 'FPAIR', a.target, 'up');
    expect(await readBulkForwardState(stack.db.pool, 'FPAIR')).toMatchObject({ started: true, startedBy: 'service' });
    await b.answer();
    await lineIn(stack, 'FPAIR', b.target, 'up');
    expect(await readBulkForwardState(stack.db.pool, 'FPAIR')).toMatchObject({ started: false });
    const events = (await listLineEvents(stack.db.pool, { contractId: 'FPAIR', limit: 10 })).reverse();
    expect(events.map((e) => [e.kind, e.bulkForward]).sort()).toEqual([['down', 'kept'], ['down', 'started'], ['up', 'kept'], ['up', 'stopped']]);
    expect(events.map((e) => e.kind)).toEqual(['down', 'down', 'up', 'up']);
    expect(events.at(-1)?.bulkForward).toBe('stopped');
    expect(await listAudit(stack.db.pool, { number: '0611113001', action: 'bulk_forward.st', limit: 10 })).toHaveLength(2);
  });

  it('一括転送 started by hand survives the 回復', async () => {
    stack = await startStack();
    const line = await newLine();
    await line.answer();
    await provision(stack, contract({
      id: 'FHAND', numbers: [{ number: '0611114444', target: line.target }],
      bulkForward: { started: true, destinations: [{ number: '0611114444', destination: '0312345678' }] },
    }));
    await stack.startProber();
    await lineIn(stack, 'FHAND', line.target, 'up');
    await line.silent();
    await lineIn(stack, 'FHAND', line.target, 'down');
    await line.answer();
    await lineIn(stack, 'FHAND', line.target, 'up');
    const mails = await mailsTo(stack.catcher, 'noc.fhand@example.jp', 2);
    expect(mails.map((m) => m.text.split('\n').find((l) => l.startsWith('一括転送:')))).toEqual(['一括転送:開始中', '一括転送:開始中（自動では停止していません）']);
    expect(await readBulkForwardState(stack.db.pool, 'FHAND')).toMatchObject({ started: true, startedBy: 'operator' });
  });

  it('a call that times out on the line counts at once: 故障 long before the next probe is due', async () => {
    // T1 50 ms: the call's INVITE to the dead line times out (timer B) in 3.2 s. The next probe is a minute away.
    stack = await startStack({ failureNotice: { probeIntervalSec: 60, upAfter: 1 } }, { timers: { t1: 50, t2: 400, t4: 500 } });
    const line = await newLine();
    await line.answer();
    await provision(stack, contract({ id: 'FCALL', numbers: [{ number: '0611117777', target: line.target, services: ['chakushin_mail'] }], bulkForward: null }));
    const { prober, registry } = await stack.startProber();
    const { srf, app } = await connectNotifyApp(stack.engine, SECRET, {
      pool: stack.db.pool, config: stack.config, spoolDir: path.join(stack.dir, 'spool'), sipT1Ms: 50,
      lineAnswered: (number, status) => prober.callFailed(number, status),
    });
    try {
      const up = await lineIn(stack, 'FCALL', line.target, 'up');
      expect(up?.state).toBe('up');
      await line.silent();
      const call = await runSipp({
        scenario: path.resolve('test/sipp/failure-uac-408.xml'), remote: { port: stack.engine.sipAddress.port }, service: '0611117777',
        keys: { from: '<sip:0612345678@127.0.0.1>' }, calls: 1, timeoutMs: 20_000,
      });
      expect(call.stats?.successful).toBe(1);
      const down = await lineIn(stack, 'FCALL', line.target, 'down', 15_000);
      expect(down?.state).toBe('down');
      // The failed call and the probe it asked for at once: declared before the probe the schedule had set.
      expect(down!.stateSince.getTime()).toBeLessThan(up!.nextProbeAt.getTime());
      expect((await registry.getSingleMetric('chakushin_line_call_failures_total')!.get()).values[0]?.value).toBe(1);
      await mailsTo(stack.catcher, 'noc.fcall@example.jp', 1, 15_000, subjectWith('故障'));
    } finally {
      srf.disconnect();
      await app.stop();
    }
  });

  it('a prober cut off from the SIP engine learns nothing: its lines are not declared 故障', async () => {
    stack = await startStack();
    const line = await newLine();
    await line.answer();
    await provision(stack, contract({ id: 'FCUT', numbers: [{ number: '0611119999', target: line.target }], bulkForward: null }));
    const { srf } = await stack.startProber();
    await lineIn(stack, 'FCUT', line.target, 'up');
    srf.disconnect();
    await line.silent();
    const view = await waitFor(async () => (await lineIn(stack!, 'FCUT', line.target, 'up', 0))!, (l) => l.lastResult === 'not_sent', 10_000);
    expect(view.lastResult).toBe('not_sent');
    await sleep(SETTLE_MS);
    expect(await lineIn(stack, 'FCUT', line.target, 'up', 0)).toMatchObject({ state: 'up', fails: 0 });
    expect(await stack.mails('noc.fcut@example.jp')).toEqual([]);
  });

  it('flapping inside the hold-down period: one 故障/回復 pair, the next 故障 waits for the period', async () => {
    stack = await startStack({ failureNotice: { holdDownSec: 3600 } });
    const line = await newLine();
    await line.answer();
    await provision(stack, contract({ id: 'FFLAP', numbers: [{ number: '0611115555', target: line.target }], bulkForward: null }));
    await stack.startProber();
    await lineIn(stack, 'FFLAP', line.target, 'up');
    for (let i = 0; i < 2; i++) {
      await line.silent();
      // The first time the line is declared 故障; the second time the 故障 is held back: the line fails on, still up.
      await waitFor(async () => (await lineIn(stack!, 'FFLAP', line.target, 'down', 100))!, (l) => l.state === 'down' || l.fails >= 4, 40_000);
      await line.answer();
      await lineIn(stack, 'FFLAP', line.target, 'up');
    }
    await sleep(SETTLE_MS);
    expect((await stack.mails('noc.fflap@example.jp')).map((m) => m.subject)).toEqual(['故障通知（大阪本社）', '回復通知（大阪本社）']);
    expect((await listLineEvents(stack.db.pool, { contractId: 'FFLAP', limit: 10 })).map((e) => e.kind)).toEqual(['up', 'down']);
  });

  it('two instances on one database probing the same lines: each 故障 and 回復 mailed once', async () => {
    stack = await startStack();
    const sipLines = await Promise.all([0, 1, 2, 3].map(() => newLine()));
    await Promise.all(sipLines.map((l) => l.answer()));
    await provision(stack, ...sipLines.map((l, i) => contract({ id: `FTWO${i}`, numbers: [{ number: `061111600${i}`, target: l.target }], bulkForward: null })));
    const a = await stack.startProber('instance-a');
    const b = await stack.startProber('instance-b');
    for (const [i, l] of sipLines.entries()) await lineIn(stack, `FTWO${i}`, l.target, 'up');
    await Promise.all(sipLines.map((l) => l.silent()));
    for (const [i, l] of sipLines.entries()) await lineIn(stack, `FTWO${i}`, l.target, 'down');
    await Promise.all(sipLines.map((l) => l.answer()));
    for (const [i, l] of sipLines.entries()) await lineIn(stack, `FTWO${i}`, l.target, 'up');
    await sleep(SETTLE_MS);
    for (const i of [0, 1, 2, 3]) {
      expect((await stack.mails(`noc.ftwo${i}@example.jp`)).map((m) => m.subject.slice(0, 4))).toEqual(['故障通知', '回復通知']);
    }
    // Both instances took part: the lines were shared between them, not probed twice.
    const probes = async (r: typeof a) => ((await r.registry.getSingleMetric('chakushin_line_probes_total')!.get()).values.reduce((n, v) => n + v.value, 0));
    expect(await probes(a)).toBeGreaterThan(0);
    expect(await probes(b)).toBeGreaterThan(0);
  });
});
