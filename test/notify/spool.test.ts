// The local spool: call records the database cannot take are kept on disk and saved later, once,
// with their mails. Real PostgreSQL throughout; "database down" is a real TCP path cut in front of it.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Srf from 'drachtio-srf';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startSmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker } from '../../src/mail/worker.ts';
import { startNotifyApp } from '../../src/notify/app.ts';
import { callerId } from '../../src/domain/caller-id.ts';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { loadNotifyProfile } from '../../src/notify/profile.ts';
import { recordCall, type FinishedCall } from '../../src/notify/record.ts';
import { createCallSaver } from '../../src/notify/save.ts';
import { encodeEntry, type SpoolEntry } from '../../src/notify/spool-file.ts';
import { startNotifySpool, type NotifySpool } from '../../src/notify/spool.ts';
import { startEngine } from '../../src/sip-engine/index.ts';
import { dispatchInvites } from '../../src/sip-dispatch.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { sippSummary, startSipp } from '../support/sipp.ts';
import { quietLogger, readMails, waitForMails } from '../mail/mailbox.ts';
import { CALLED, CALLER, provision, subscriber } from './fixtures.ts';

const config = parseConfig({});
let db: TestDatabase;
let tmp: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'chakushin-spool-'));
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await db.pool.query('delete from mail_outbox; delete from incoming_call; delete from contract');
});
afterAll(async () => {
  await db.drop();
  await rm(tmp, { recursive: true, force: true });
});

let dirs = 0;
const newDir = () => path.join(tmp, `spool${++dirs}`);

/** A spool past its start round: no other round runs until replayNow() or a minute has passed. */
async function spoolAt(dir: string, over: Partial<Parameters<typeof startNotifySpool>[0]> = {}): Promise<NotifySpool> {
  const spool = startNotifySpool({ dir, pool: db.pool, config, logger: quietLogger, intervalMs: 60_000, ...over });
  cleanups.push(() => spool.stop());
  await spool.replayNow();
  return spool;
}

const t0 = new Date('2026-11-22T00:15:03.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
let seq = 0;
function missedCall(): FinishedCall {
  return {
    callId: `spool-${++seq}@test`, calledNumber: CALLED,
    caller: callerId({ from: `<sip:${CALLER}@trunk>` }, true, config.notify.absentReasonRules),
    timeline: { inviteAt: t0, ringAt: at(0.2), endAt: at(10.3), finalStatus: 487, forwarded: false },
  };
}

async function entryFor(call: FinishedCall): Promise<SpoolEntry> {
  return { profile: (await loadNotifyProfile(db.pool, call.calledNumber, call.caller.number, 10))!, call };
}

async function counts(): Promise<{ calls: number; mails: number }> {
  const { rows } = await db.pool.query('select (select count(*)::int from incoming_call) as calls, (select count(*)::int from mail_outbox) as mails');
  return rows[0];
}

async function spoolFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.jsonl'));
}

/** A process that is gone: its pid is what a crashed writer leaves in its file names. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('notify spool', () => {
  it('a spooled call is saved on replay with its mails, delivered once, its times intact', async () => {
    await provision(db.pool, subscriber({ notify: { destinations: [{ address: 'a@example.jp', send: true }, { address: 'b@example.jp', send: false }, { address: 'c@example.jp', send: true }] } }));
    const dir = newDir();
    const registry = new Registry();
    const spool = await spoolAt(dir, { registry });
    const call = missedCall();
    await spool.put(await entryFor(call));
    expect(await spoolFiles(dir)).toHaveLength(1);
    expect(spool.waiting()).toBe(1);
    expect(await registry.getSingleMetricAsString('chakushin_notify_spooled_calls')).toMatch(/^chakushin_notify_spooled_calls 1$/m);

    expect(await spool.replayNow()).toBe(0);
    expect(await counts()).toEqual({ calls: 1, mails: 2 });
    expect(await spoolFiles(dir)).toEqual([]);
    expect(await registry.getSingleMetricAsString('chakushin_notify_spooled_calls')).toMatch(/^chakushin_notify_spooled_calls 0$/m);
    const { rows } = await db.pool.query('select call_id, invite_at, ring_at, end_at, status, ring_seconds from incoming_call');
    expect(rows).toEqual([{ call_id: call.callId, invite_at: t0, ring_at: at(0.2), end_at: at(10.3), status: '応答なし', ring_seconds: 10 }]);

    const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(tmp, `box${dirs}`), logger: quietLogger });
    const transport = catcherTransport({ host: '127.0.0.1', port: catcher.port });
    const worker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 2, pollMs: 100 });
    cleanups.push(() => catcher.close(), async () => transport.close(), () => worker.stop());
    const mails = await waitForMails(catcher, 2);
    expect(mails.map((m) => m.deliveredTo).sort()).toEqual(['a@example.jp', 'c@example.jp']);
    for (const m of mails) expect(m.text.split('\n').slice(0, 5)).toEqual(['着信日時:2026/11/22 09:15:03', '発信電話番号:0612345678', '非通知理由:', '呼出時間:10秒', '着信状態:応答なし']);
    expect(await spool.replayNow()).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(await readMails(catcher)).toHaveLength(2);
  });

  it('replaying again, or replaying a call that did reach the database, records nothing twice', async () => {
    await provision(db.pool, subscriber());
    const dir = newDir();
    // A crash after commit but before the spool file was deleted: the call is in both places.
    const committed = missedCall();
    const entry = await entryFor(committed);
    await recordCall(db.pool, config, entry.profile, committed);
    const fresh = missedCall();
    const writer = await spoolAt(dir);
    await writer.put(entry);
    await writer.put(await entryFor(fresh));
    await writer.put(await entryFor(fresh));
    await writer.stop();
    const [file] = await spoolFiles(dir);
    const copy = await readFile(path.join(dir, file!), 'utf8');

    const replayer = await spoolAt(dir);
    expect(await replayer.replayNow()).toBe(0);
    expect(await counts()).toEqual({ calls: 2, mails: 2 });
    // The same file once more, as if its deletion had been lost.
    await writeFile(path.join(dir, file!), copy);
    expect(await replayer.replayNow()).toBe(0);
    expect(await counts()).toEqual({ calls: 2, mails: 2 });
    const { rows } = await db.pool.query('select i.call_id, count(o.id)::int as mails from incoming_call i left join mail_outbox o on o.incoming_call_id = i.id group by i.call_id order by i.call_id');
    expect(rows).toEqual([{ call_id: committed.callId, mails: 1 }, { call_id: fresh.callId, mails: 1 }].sort((a, b) => (a.call_id < b.call_id ? -1 : 1)));
  });

  it('database unreachable: the call goes to the spool, and is saved once the database is back', async () => {
    await provision(db.pool, subscriber());
    const proxy = await startTcpProxy(Number(new URL(db.url).port));
    cleanups.push(() => proxy.close());
    const viaProxy = new pg.Pool({ connectionString: db.url.replace(/:\d+\//, `:${proxy.port}/`), max: 2, connectionTimeoutMillis: 2_000 });
    viaProxy.on('error', () => undefined); // idle connections cut by the outage
    cleanups.push(() => viaProxy.end());
    await viaProxy.query('select 1');

    const dir = newDir();
    const spool = startNotifySpool({ dir, pool: viaProxy, config, logger: quietLogger, intervalMs: 200 });
    cleanups.push(() => spool.stop());
    const saver = createCallSaver({ pool: viaProxy, config, logger: quietLogger, spool, windowMs: 0 });
    const call = missedCall();
    const entry = await entryFor(call);

    await proxy.down();
    await saver.save(entry.profile, call);
    expect(await spoolFiles(dir)).toHaveLength(1);
    expect(spool.waiting()).toBe(1);
    // Replay rounds keep failing while the database stays away; nothing is lost or duplicated.
    await new Promise((r) => setTimeout(r, 700));
    expect(await counts()).toEqual({ calls: 0, mails: 0 });
    expect(await spoolFiles(dir)).toHaveLength(1);

    await proxy.up();
    expect(await waitFor(counts, (c) => c.calls > 0)).toEqual({ calls: 1, mails: 1 });
    expect(await waitFor(() => spoolFiles(dir), (f) => f.length === 0)).toEqual([]);
    expect(spool.waiting()).toBe(0);
  });

  it('a torn last line is skipped and logged; the complete lines before it are saved', async () => {
    await provision(db.pool, subscriber());
    const dir = newDir();
    const calls = [missedCall(), missedCall(), missedCall()];
    const lines = await Promise.all(calls.map(async (c) => encodeEntry(await entryFor(c))));
    const torn = lines[2]!.slice(0, 60);
    const file = path.join(dir, `notify-${await deadPid()}-0abc-1.jsonl`);
    await mkdir(dir, { recursive: true });
    await writeFile(file, lines[0]! + lines[1]! + torn);

    const logged: { level: number; msg: string; file?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logged.push(JSON.parse(s)) });
    const spool = await spoolAt(dir, { logger });
    expect(await spool.replayNow()).toBe(0);
    const { rows } = await db.pool.query('select call_id from incoming_call order by id');
    expect(rows.map((r) => r.call_id)).toEqual([calls[0]!.callId, calls[1]!.callId]);
    expect(logged.filter((l) => /torn last line/.test(l.msg))).toMatchObject([{ level: 40, file }]);
    expect(await spoolFiles(dir)).toEqual([]);
    const [rejected] = await readdir(path.join(dir, 'rejected'));
    const kept = (await readFile(path.join(dir, 'rejected', rejected!), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(kept).toMatchObject([{ reason: 'torn last line', line: torn }]);
  });

  it('a file another live instance is writing is left alone; once its writer is gone it is replayed', async () => {
    await provision(db.pool, subscriber());
    const dir = newDir();
    // Another instance in this process, still running.
    const other = await spoolAt(dir);
    await other.put(await entryFor(missedCall()));
    // Another process, still running, with a file of its own.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    cleanups.push(async () => live.kill());
    await writeFile(path.join(dir, `notify-${live.pid}-0abc-1.jsonl`), encodeEntry(await entryFor(missedCall())));

    const spool = await spoolAt(dir);
    expect(await spool.replayNow()).toBe(2);
    expect(await counts()).toEqual({ calls: 0, mails: 0 });

    await other.stop();
    expect(await spool.replayNow()).toBe(1);
    expect(await counts()).toEqual({ calls: 1, mails: 1 });
    live.kill();
    await new Promise((r) => live.once('exit', r));
    expect(await spool.replayNow()).toBe(0);
    expect(await counts()).toEqual({ calls: 2, mails: 2 });
    expect(await spoolFiles(dir)).toEqual([]);
  });
});

describe('stopping with calls still up', () => {
  it('after the grace the service hangs up: answered → 通話, ringing → 480 and 応答なし, both recorded', async () => {
    const engine = await startEngine({
      sip: { host: '127.0.0.1', port: await freePort() }, admin: { host: '127.0.0.1', port: await freePort('tcp') }, secret: 'spool-test', logger: quietLogger,
    });
    cleanups.push(() => engine.close());
    const srf = new Srf();
    const app = startNotifyApp({ srf, pool: db.pool, config, logger: quietLogger, spoolDir: newDir(), isTrustedPeer: trustedPeerMatcher(config.sip.trustedPeers) });
    dispatchInvites(srf, [app.handleNotifyInvite], { logger: quietLogger });
    cleanups.push(async () => srf.disconnect());
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: 'spool-test' });
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    });
    const scen = (name: string) => path.resolve('test/sipp', `${name}.xml`);
    const lines = { talking: await freePort('udp'), ringing: await freePort('udp') };
    await provision(
      db.pool,
      subscriber({ number: '0620000001', target: `sip:0620000001@127.0.0.1:${lines.talking}` }),
      subscriber({ number: '0620000002', target: `sip:0620000002@127.0.0.1:${lines.ringing}` }),
    );
    const keys = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };
    const talkingLine = await startSipp({ scenario: scen('notify-uas-answer'), localPort: lines.talking, calls: 1, timeoutMs: 20_000 });
    const ringingLine = await startSipp({ scenario: scen('notify-uas-ring'), localPort: lines.ringing, calls: 1, timeoutMs: 20_000 });
    const talker = await startSipp({ scenario: scen('notify-uac-held'), remote: { port: engine.sipAddress.port }, service: '0620000001', calls: 1, keys, timeoutMs: 20_000 });
    const waiter = await startSipp({ scenario: scen('notify-uac-fail'), remote: { port: engine.sipAddress.port }, service: '0620000002', calls: 1, keys, timeoutMs: 20_000, traceMessages: true });
    expect(await waitFor(async () => app.activeCalls(), (n) => n === 2)).toBe(2);
    // Let the first call be answered and the second ring for a while.
    await new Promise((r) => setTimeout(r, 1_000));

    const stopAt = Date.now();
    await app.stop(300);
    for (const p of [talker, waiter, talkingLine, ringingLine]) {
      const r = await p.done;
      expect(r.exitCode, sippSummary(r)).toBe(0);
    }
    expect((await waiter.done).messages).toMatch(/^SIP\/2\.0 480 /m);
    const { rows } = await db.pool.query('select called_number, status, final_status, answer_at is not null as answered, end_at from incoming_call order by called_number');
    expect(rows.map(({ end_at, ...r }) => r)).toEqual([
      { called_number: '0620000001', status: '通話', final_status: 200, answered: true },
      { called_number: '0620000002', status: '応答なし', final_status: 480, answered: false },
    ]);
    // Both end when the service gave up on them, after the grace.
    for (const r of rows) expect(r.end_at.getTime()).toBeGreaterThanOrEqual(stopAt + 300);
    expect(rows[0].end_at.getTime()).toBe(rows[1].end_at.getTime());
    expect((await counts()).mails).toBe(2);
  });
});

interface TcpProxy {
  port: number;
  /** Refuse new connections and cut the open ones, as a database host going away. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP path to PostgreSQL that the test can cut and restore on the same port. */
async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const down = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise((r) => s.close(r));
  };
  await listen();
  return { port, down, up: listen, close: down };
}
