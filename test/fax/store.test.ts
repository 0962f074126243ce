// The store API the settings sites use for FAXお知らせメール (受信FAX内容確認, 送信先メールアドレス設定,
// サービス開始／停止), the retention sweep, and provisioning of numbers[].fax — on a real PostgreSQL.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startFaxSweep } from '../../src/notify/fax-sweep.ts';
import {
  changeFaxSettings, deleteFaxReception, downloadFaxPdf, getFaxReception, insertFaxReception, listFaxReceptions, readFaxSettings,
  StaleFormError, sweepExpiredFaxReceptions, writeFaxDestinations, writeFaxStarted, type NewFaxReception,
} from '../../src/store/fax.ts';
import { applyProvisioning, validateProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const A = '0611113333';
const B = '0611119999';
let db: TestDatabase;

function contract(id: string, number: string, fax?: unknown, services = ['fax_mail']) {
  return { id, region: 'east', pattern: 'A', authUnit: 'number', numbers: [{ number, role: 'main', services, ...(fax ? { fax } : {}) }] };
}

function reception(over: Partial<NewFaxReception> & { receivedAt: Date }): NewFaxReception {
  return {
    callId: `c-${Math.random()}`, calledNumber: A, callerNumber: '0612345678', absentReason: null, inviteAt: over.receivedAt, endedAt: new Date(over.receivedAt.getTime() + 20_000),
    remoteIdent: 'X', pages: 1, resolution: '204x196', result: 'complete', t30Code: 0, t30Reason: 'OK', transport: 'g711', pdf: Buffer.from('%PDF-1.7 test'),
    expiresAt: new Date(over.receivedAt.getTime() + 30 * 86_400_000), ...over,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  await applyProvisioning(db.pool, { contracts: [contract('S1', A, { started: true, destinations: [{ address: 'a@example.jp', send: true }] }), contract('S2', B)] });
});
afterAll(async () => {
  await db?.drop();
});

describe('provisioning numbers[].fax', () => {
  it('loads started and destinations; a number without fax settings has none', async () => {
    const s = await readFaxSettings(db.pool, A);
    expect(s).toMatchObject({ started: true, destinations: [{ position: 1, address: 'a@example.jp', send: true }] });
    expect(await readFaxSettings(db.pool, B)).toMatchObject({ started: false, version: 0, destinations: [] });
  });

  it('names every bad field and rule, and writes nothing', () => {
    const r = validateProvisioning({
      contracts: [
        contract('S3', '0611110001', { started: true, destinations: [] }),
        contract('S4', '0611110002', { started: false, destinations: [{ address: 'no-at-sign', send: true }] }),
        contract('S5', '0611110003', { started: false }, ['chakushin_mail']),
        contract('S6', '0611110004', { started: false, destinations: Array.from({ length: 6 }, (_, i) => ({ address: `d${i}@example.jp` })) }),
      ],
    });
    expect(r.errors).toEqual(expect.arrayContaining([
      'contracts[0].numbers[0].fax.started: the service cannot be started without a destination address',
      expect.stringMatching(/^contracts\[1\]\.numbers\[0\]\.fax\.destinations\[0\]\.address: mail address/),
      'contracts[2].numbers[0].fax: FAX settings given but the number does not subscribe fax_mail',
      'contracts[3].numbers[0].fax.destinations: at most 5 destinations',
    ]));
  });
});

describe('FAX settings (サービス開始／停止, 送信先メールアドレス設定)', () => {
  it('saves in one transaction against the version the form was drawn from; a stale form is refused and changes nothing', async () => {
    const drawn = await readFaxSettings(db.pool, B);
    await changeFaxSettings(db.pool, B, drawn.version, async (client) => {
      await writeFaxDestinations(client, B, [{ position: 1, address: 'b@example.jp', send: true }, { position: 2, address: 'c@example.jp', send: false }], new Date());
    });
    const after = await readFaxSettings(db.pool, B);
    expect(after.destinations).toHaveLength(2);
    expect(after.version).toBeGreaterThan(drawn.version);
    // A second window still showing the first version.
    await expect(changeFaxSettings(db.pool, B, drawn.version === 0 ? 1 : drawn.version, async (client) => writeFaxStarted(client, B, true, new Date()))).rejects.toBeInstanceOf(StaleFormError);
    expect((await readFaxSettings(db.pool, B)).started).toBe(false);
    // A failure inside the change rolls the whole form back.
    await expect(changeFaxSettings(db.pool, B, after.version, async (client) => {
      await writeFaxStarted(client, B, true, new Date());
      throw new Error('bad input');
    })).rejects.toThrow('bad input');
    expect(await readFaxSettings(db.pool, B)).toEqual(after);
  });
});

describe('受信FAX内容確認', () => {
  it('lists a number’s kept receptions newest first, paged; another number’s are never listed or given', async () => {
    const base = Date.parse('2026-12-01T00:00:00Z');
    for (let i = 0; i < 7; i++) await insertFaxReception(db.pool, reception({ receivedAt: new Date(base + i * 60_000), pages: i }));
    await insertFaxReception(db.pool, reception({ calledNumber: B, receivedAt: new Date(base + 3_600_000) }));
    const now = new Date(base + 86_400_000);
    const first = await listFaxReceptions(db.pool, A, { offset: 0, limit: 3 }, now);
    expect(first.total).toBe(7);
    expect(first.rows.map((r) => r.pages)).toEqual([6, 5, 4]);
    const last = await listFaxReceptions(db.pool, A, { offset: 6, limit: 3 }, now);
    expect(last.rows.map((r) => r.pages)).toEqual([0]);
    const other = (await listFaxReceptions(db.pool, B, { offset: 0, limit: 10 }, now)).rows[0]!;
    expect(await getFaxReception(db.pool, A, other.id, now)).toBeUndefined();
    expect(await downloadFaxPdf(db.pool, A, other.id, { actor: A, at: now })).toBeUndefined();
    expect(await deleteFaxReception(db.pool, A, other.id, { actor: A, at: now })).toBe(false);
  });

  it('a download gives the PDF and writes its audit row; a delete removes record and PDF with its audit row', async () => {
    const now = new Date(Date.parse('2026-12-01T00:00:00Z') + 86_400_000);
    const [row] = (await listFaxReceptions(db.pool, A, { offset: 0, limit: 1 }, now)).rows;
    const got = await downloadFaxPdf(db.pool, A, row!.id, { actor: A, source: '192.0.2.1', at: now });
    expect(got?.pdf.toString()).toBe('%PDF-1.7 test');
    expect(await deleteFaxReception(db.pool, A, row!.id, { actor: A, source: '192.0.2.1', at: now })).toBe(true);
    expect(await getFaxReception(db.pool, A, row!.id, now)).toBeUndefined();
    const { rows } = await db.pool.query(`select action, subject, detail, source from audit_log where action like 'fax.%' order by id`);
    expect(rows).toEqual([
      { action: 'fax.download', subject: A, detail: { reception: row!.id, bytes: 13 }, source: '192.0.2.1' },
      { action: 'fax.delete', subject: A, detail: { reception: row!.id }, source: '192.0.2.1' },
    ]);
  });
});

describe('retention (fax.retentionDays)', () => {
  it('the sweep deletes receptions past their expiry, record and PDF, and keeps the others', async () => {
    const base = Date.parse('2027-01-01T00:00:00Z');
    await insertFaxReception(db.pool, reception({ callId: 'old', receivedAt: new Date(base), expiresAt: new Date(base + 1000) }));
    await insertFaxReception(db.pool, reception({ callId: 'new', receivedAt: new Date(base), expiresAt: new Date(base + 10 * 86_400_000) }));
    const count = async () => (await db.pool.query(`select call_id from fax_reception where call_id in ('old', 'new') order by call_id`)).rows.map((r) => r.call_id);
    expect(await count()).toEqual(['new', 'old']);
    const config = parseConfig({ fax: { sweepIntervalSec: 3600 } });
    const sweep = startFaxSweep({ pool: db.pool, config, logger: pino({ level: 'silent' }), now: () => new Date(base + 86_400_000) });
    expect(await sweep.sweep()).toBeGreaterThanOrEqual(1);
    await sweep.stop();
    expect(await count()).toEqual(['new']);
    expect(await sweepExpiredFaxReceptions(db.pool, new Date(base + 86_400_000))).toBe(0);
  });
});
