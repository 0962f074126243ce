// fax.ringLineFirstSec > 0: the line (a SIPp UAS) rings first; the FAX receiver answers only when
// the line does not answer in that time (the line gets a CANCEL) or is busy. With 着信お知らせメール
// too, the 着信 record counts the line's ringing up to the FAX receiver's answer, as 通話.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { listFaxReceptions } from '../../src/store/fax.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { freePort } from '../support/ports.ts';
import { sippSummary, startSipp } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { makeFaxTiff, startFaxStack, type FaxStack } from './stack.ts';

const RING_FIRST_SEC = 3;
const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
let stack: FaxStack;
let page: string;
const lines: Record<string, number> = {};

beforeAll(async () => {
  stack = await startFaxStack({ fax: { ringLineFirstSec: RING_FIRST_SEC } });
  page = await makeFaxTiff(stack.dir, 1, 600);
  lines.ring = await freePort('udp');
  lines.busy = await freePort('udp');
  const number = (n: string, port: number, services: string[]) => ({
    number: n, role: 'main', services, target: `sip:line@127.0.0.1:${port}`,
    fax: { started: true, destinations: [{ address: `fax.${n}@example.jp` }] },
    ...(services.includes('chakushin_mail') ? { notify: { started: true, destinations: [{ address: `call.${n}@example.jp` }] } } : {}),
  });
  await applyProvisioning(stack.db.pool, {
    contracts: [
      { id: 'R1', region: 'west', pattern: 'A', authUnit: 'line', numbers: [number('0611120001', lines.ring!, ['chakushin_mail', 'fax_mail'])] },
      { id: 'R2', region: 'west', pattern: 'A', authUnit: 'line', numbers: [number('0611120002', lines.busy!, ['fax_mail'])] },
    ],
  });
});
afterAll(async () => {
  await stack?.close();
});

describe.concurrent('ring-first FAX (fax.ringLineFirstSec)', () => {
  it('the line rings and does not answer: CANCELled after the ring time, then the FAX is received; 着信 通話 with its 呼出時間', async () => {
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: lines.ring, calls: 1, timeoutMs: 60_000 });
    const started = Date.now();
    const sent = await sendFax({ to: '0611120001', via: stack.sip, from: '0612345678', file: page });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 1, t30Code: 0 });
    const l = await line.done;
    expect(l.stats?.successful, sippSummary(l)).toBe(1);
    expect(Date.now() - started).toBeGreaterThan(RING_FIRST_SEC * 1000);
    const list = await waitFor(() => listFaxReceptions(stack.db.pool, '0611120001', { offset: 0, limit: 5 }), (x) => x.total === 1, 15_000);
    expect(list.rows[0]).toMatchObject({ pages: 1, result: 'complete' });
    const calls = await waitFor(async () => (await stack.db.pool.query('select status, ring_seconds from incoming_call where called_number = $1', ['0611120001'])).rows, (r) => r.length === 1);
    expect(calls).toEqual([{ status: '通話', ring_seconds: RING_FIRST_SEC }]);
  });

  it('the line is busy: the FAX receiver answers at once', async () => {
    const line = await startSipp({ scenario: SCEN('notify-uas-busy'), localPort: lines.busy, calls: 1, timeoutMs: 60_000, extraArgs: ['-d', '500'] });
    const sent = await sendFax({ to: '0611120002', via: stack.sip, from: '0612345678', file: page });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 1, t30Code: 0 });
    const l = await line.done;
    expect(l.stats?.successful, sippSummary(l)).toBe(1);
    const list = await waitFor(() => listFaxReceptions(stack.db.pool, '0611120002', { offset: 0, limit: 5 }), (x) => x.total === 1, 15_000);
    expect(list.rows[0]).toMatchObject({ pages: 1, result: 'complete' });
  });
});
