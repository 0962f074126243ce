// Results applied to lines in batches, against PostgreSQL: several lines of one contract changing in
// one batch, a lost lease, and the outbox rows of each 故障/回復.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { applyProbeOutcomes } from '../../src/failure/events.ts';
import { readBulkForwardState } from '../../src/store/bulk-forward-settings.ts';
import { claimDueLines, listLineEvents, listLines } from '../../src/store/line-probes.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { contract } from './harness.ts';

const config = parseConfig({ failureNotice: { downAfter: 1, upAfter: 1, holdDownSec: 0, probeIntervalSec: 0.001 } });
const A = 'sip:a@192.0.2.1';
const B = 'sip:b@192.0.2.2';
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await applyProvisioning(db.pool, {
    contracts: [contract({
      id: 'FBATCH', numbers: [{ number: '0611114001', target: A }, { number: '0611114002', target: B }],
      bulkForward: { destinations: [{ number: '0611114001', destination: '0312345678' }] },
    })],
  });
});
afterAll(async () => {
  await db?.drop();
});

const batch = async (holder: string, results: Record<string, string>) => {
  await new Promise((r) => setTimeout(r, 10));
  const claimed = await claimDueLines(db.pool, { holder, leaseSec: 30, limit: 10 });
  const at = new Date();
  claimed.sort((x, y) => x.line.localeCompare(y.line));
  return applyProbeOutcomes(db.pool, config, holder, claimed.map((k) => ({ ...k, result: results[k.line]!, status: results[k.line] === 'answered' ? 200 : null, at })));
};

it('both lines of a contract fail in one batch: 一括転送 started once; both back in one batch: stopped once, by the last', async () => {
  await batch('h', { [A]: 'answered', [B]: 'answered' });
  const down = await batch('h', { [A]: 'timeout', [B]: 'unavailable' });
  expect(down.map((c) => [c.line, c.change, c.bulkForward])).toEqual([[A, 'down', 'started'], [B, 'down', 'kept']]);
  expect(await readBulkForwardState(db.pool, 'FBATCH')).toMatchObject({ started: true, startedBy: 'service' });
  const up = await batch('h', { [A]: 'answered', [B]: 'answered' });
  expect(up.map((c) => [c.line, c.change, c.bulkForward])).toEqual([[A, 'up', 'kept'], [B, 'up', 'stopped']]);
  expect(await readBulkForwardState(db.pool, 'FBATCH')).toMatchObject({ started: false });
  expect((await listLineEvents(db.pool, { contractId: 'FBATCH', limit: 10 })).map((e) => e.mails)).toEqual([1, 1, 1, 1]);
  const { rows } = await db.pool.query("select subject from mail_outbox where to_address = 'noc.fbatch@example.jp' order by id");
  expect(rows.map((r) => r.subject)).toEqual(['故障通知（大阪本社）', '故障通知（大阪本社）', '回復通知（大阪本社）', '回復通知（大阪本社）']);
});

it('a result from an instance whose lease was taken over is not applied', async () => {
  const [first] = await claimDueLines(db.pool, { holder: 'slow', leaseSec: 0, limit: 1 });
  await new Promise((r) => setTimeout(r, 20));
  // The lease ran out; another instance claims the line and applies its own answer first.
  const taken = await claimDueLines(db.pool, { holder: 'quick', leaseSec: 30, limit: 10 });
  expect(taken.map((k) => k.line)).toContain(first!.line);
  const late = await applyProbeOutcomes(db.pool, config, 'slow', [{ ...first!, result: 'timeout', status: null, at: new Date() }]);
  expect(late).toEqual([]);
  expect((await listLines(db.pool, { contractId: 'FBATCH', limit: 10 })).find((l) => l.line === first!.line)).toMatchObject({ state: 'up', leaseHolder: 'quick' });
});
