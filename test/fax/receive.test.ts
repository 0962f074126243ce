// A FAX sent through SIP (G.711) to a number with FAXお知らせメール: received by spandsp, stored as PDF
// in PostgreSQL, and mailed once.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { listFaxReceptions } from '../../src/store/fax.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { mailsTo } from '../mail/mailbox.ts';
import { waitFor } from '../support/wait.ts';
import { makeFaxTiff, startFaxStack, type FaxStack } from './stack.ts';

const run = promisify(execFile);
const FAX_NUMBER = '0611113333';
const CALLER = '0612345678';

let stack: FaxStack;
let twoPages: string;

beforeAll(async () => {
  stack = await startFaxStack();
  twoPages = await makeFaxTiff(stack.dir, 2);
  await applyProvisioning(stack.db.pool, {
    contracts: [{
      id: 'F1', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [{ number: FAX_NUMBER, role: 'main', services: ['fax_mail'], fax: { started: true, destinations: [{ address: 'fax@example.jp', send: true }] } }],
    }],
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('FAX reception over G.711', () => {
  it('receives a 2-page FAX, stores it as a 2-page PDF that renders, and mails it once', async () => {
    const sent = await sendFax({ to: FAX_NUMBER, via: stack.sip, from: CALLER, file: twoPages, ident: 'TEST SENDER' });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 2, t30Code: 0 });
    const list = await waitFor(() => listFaxReceptions(stack.db.pool, FAX_NUMBER, { offset: 0, limit: 10 }), (l) => l.total === 1, 10_000);
    expect(list.rows[0]).toMatchObject({ callerNumber: CALLER, absentReason: null, pages: 2, result: 'complete', remoteIdent: 'TEST SENDER', resolution: '204x196', transport: 'g711', hasPdf: true });
    const { rows } = await stack.db.pool.query('select pdf from fax_reception');
    const pdf = path.join(stack.dir, 'got.pdf');
    await writeFile(pdf, rows[0].pdf);
    const info = (await run('pdfinfo', [pdf])).stdout;
    expect(info).toMatch(/Pages:\s+2/);
    const [mail] = await mailsTo(stack.catcher, 'fax@example.jp', 1);
    expect(mail!.subject).toBe(`FAX受信通知（${FAX_NUMBER}着）`);
    expect(mail!.text).toContain('ページ数:2');
  });
});
