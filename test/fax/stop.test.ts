// Stopping with a FAX call in progress: after notify.shutdownGraceSec the call is hung up (BYE), the
// page already received is kept (partial) and mailed, and stop() returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { listFaxReceptions } from '../../src/store/fax.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { mailsTo } from '../mail/mailbox.ts';
import { makeFaxTiff, startFaxStack, type FaxStack } from './stack.ts';

const NUMBER = '0611113333';
let stack: FaxStack;

beforeAll(async () => {
  stack = await startFaxStack();
  await applyProvisioning(stack.db.pool, {
    contracts: [{ id: 'S1', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [{ number: NUMBER, role: 'main', services: ['fax_mail'], fax: { started: true, destinations: [{ address: 'fax@example.jp' }] } }] }],
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('stopping during a FAX call', () => {
  it('hangs up after the grace, records the page received as partial and mails it', async () => {
    const doc = await makeFaxTiff(stack.dir, 3, 800);
    let stopping: Promise<void> | undefined;
    const sent = await sendFax({
      to: NUMBER, via: stack.sip, from: '0612345678', file: doc,
      onPage: (n) => void (n === 1 && (stopping ??= stack.app.stop(500))),
    });
    expect(sent.sipStatus).toBe(200);
    expect(sent.pagesSent).toBeLessThan(3);
    expect(sent.t30Code).not.toBe(0);
    await stopping;
    const { rows } = await listFaxReceptions(stack.db.pool, NUMBER, { offset: 0, limit: 5 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ result: 'partial', hasPdf: true });
    expect(rows[0]!.pages).toBeGreaterThanOrEqual(1);
    const [m] = await mailsTo(stack.catcher, 'fax@example.jp', 1);
    expect(m!.text).toMatch(/受信結果:途中で切断されました（\dページ受信）/);
  });
});
