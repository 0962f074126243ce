// Two chakushin nodes on one database behind Kamailio's dispatcher (Debian's kamailio, running
// docker/kamailio/kamailio.cfg as it is), mailing through one SMTP relay: calls reach both nodes and
// each 着信 is mailed once; the IVR works through the dispatcher; a stopping node answers OPTIONS 503,
// gets no new calls and finishes its own; a node killed outright for good: its callers get 480 from the
// dispatcher within seconds, the surviving node records its ringing calls once (and mails them) after
// its lease, and CANCELs its lines with the journaled INVITEs' branches.
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { ACCESS, sippMediaPort, SUBSCRIBERS } from '../ivr/harness.ts';
import { quietLogger, readMails } from '../mail/mailbox.ts';
import { CALLER, subscriber } from '../notify/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startKamailio, type Kamailio } from '../support/kamailio.ts';
import { freePort } from '../support/ports.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { runSipp, sippSummary, startSipp, tracedMessages } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const ANSWERED = '0620000301';
const RINGING = '0620000302';
const KEYS = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };
/** Short lease and probes: the takeover and the dispatcher's verdicts come within seconds. */
const NODE_CONFIG = { cluster: { workers: 1, leaseSec: 3, heartbeatSec: 0.5 }, notify: { shutdownGraceSec: 10 } };

let db: TestDatabase;
let dir: string;
let relay: SmtpCatcher;
let kamailio: Kamailio | undefined;
/** The nodes by name; 'a' and 'b' at first, 'a2' on a's address once a has stopped. */
const nodes = new Map<string, ServiceProcess>();
let answeredLine: number;
let ringingLine: number;
let sipPorts: number[];

async function startNode(name: string, sipPort: number): Promise<ServiceProcess> {
  const node = await startServiceProcess({
    databaseUrl: db.url, varDir: path.join(dir, name), sipPort, config: NODE_CONFIG, detached: true,
    env: { SMTP_URL: `smtp://127.0.0.1:${relay.port}`, SITE_PUBLIC_URL: 'https://chakushin.example.jp' },
  });
  nodes.set(name, node);
  return node;
}

const rowsOf = async (number: string) =>
  (await db.pool.query('select * from incoming_call where called_number = $1 order by id', [number])).rows;
const mailsOf = async (number: string) =>
  (await db.pool.query(`select m.state, i.call_id from mail_outbox m join incoming_call i on i.id = m.incoming_call_id where i.called_number = $1`, [number])).rows;
/** The Call-IDs a node's log says it recorded. */
const recordedBy = (node: ServiceProcess) => new Set([...node.output().matchAll(/"callId":"([^"]+)"[^\n]*"msg":"call recorded"/g)].map((m) => m[1]!));

const exitCode = (n: ServiceProcess) =>
  n.alive() ? new Promise<number | null>((r) => n.child.once('exit', (code) => r(code))) : Promise.resolve(n.child.exitCode);

/** The status line a node answers one OPTIONS with. */
async function options(port: number): Promise<string> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const me = sock.address().port;
  const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString().split('\r\n')[0]!)));
  const id = `opt-${Math.random().toString(36).slice(2)}`;
  sock.send([
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK${id}`, 'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=${id}`, `To: <sip:127.0.0.1:${port}>`, `Call-ID: ${id}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', '',
  ].join('\r\n'), port, '127.0.0.1');
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 5_000));
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    sock.close();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-cluster-'));
  relay = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(dir, 'relay'), logger: quietLogger });
  answeredLine = await freePort('udp');
  ringingLine = await freePort('udp');
  await applyProvisioning(db.pool, {
    contracts: [
      ...SUBSCRIBERS.contracts,
      subscriber({ number: ANSWERED, target: `sip:${ANSWERED}@127.0.0.1:${answeredLine}` }),
      subscriber({ number: RINGING, target: `sip:${RINGING}@127.0.0.1:${ringingLine}` }),
    ],
  });
  sipPorts = [await freePort('both'), await freePort('both')];
  await Promise.all([startNode('a', sipPorts[0]!), startNode('b', sipPorts[1]!)]);
  kamailio = await startKamailio({ nodes: sipPorts.map((port) => ({ host: '127.0.0.1', port })), pingSec: 1 });
}, 180_000);

afterAll(async () => {
  await kamailio?.stop();
  for (const n of nodes.values()) if (n.alive()) await n.stop();
  await relay?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('two nodes behind Kamailio', () => {
  it('calls through the dispatcher reach both nodes; each 着信 is recorded and mailed once', async () => {
    const line = await startSipp({ scenario: SCEN('notify-uas-answer'), localPort: answeredLine, calls: 10, timeoutMs: 60_000, extraArgs: ['-d', '0'] });
    const callers = await runSipp({
      scenario: SCEN('notify-uac-answer'), remote: { port: kamailio!.port }, service: ANSWERED, calls: 10, rate: 5, keys: KEYS,
      timeoutMs: 60_000, extraArgs: ['-d', '200'],
    });
    expect(callers.exitCode, sippSummary(callers)).toBe(0);
    expect((await line.done).exitCode).toBe(0);
    const rows = await waitFor(() => rowsOf(ANSWERED), (r) => r.length === 10, 15_000);
    expect(rows.map((r) => r.status)).toEqual(new Array(10).fill('通話'));
    const mails = await waitFor(() => mailsOf(ANSWERED), (m) => m.length === 10 && m.every((x) => x.state === 'sent'), 20_000);
    expect(new Set(mails.map((m) => m.call_id)).size).toBe(10);
    const delivered = (await readMails(relay)).filter((m) => m.deliveredTo === `pc.${ANSWERED}@example.jp`);
    expect(delivered).toHaveLength(10);
    expect(new Set(delivered.map((m) => m.messageId)).size).toBe(10);
    const [a, b] = [recordedBy(nodes.get('a')!), recordedBy(nodes.get('b')!)];
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect(a.size + b.size).toBe(10);
  }, 90_000);

  it('the IVR works through the dispatcher (media straight to the node that answered)', async () => {
    const callId = `ivr-cluster-${Date.now()}`;
    const r = await runSipp({
      scenario: SCEN('ivr-a-line'), remote: { port: kamailio!.port }, service: ACCESS.A_WEST, calls: 1, keys: { caller: '0611112222' },
      timeoutMs: 120_000, traceMessages: true, extraArgs: ['-mp', String(await sippMediaPort()), '-cid_str', callId],
    });
    expect(r.exitCode, sippSummary(r)).toBe(0);
    // The record is written as the call ends; SIPp may be done a moment earlier.
    const rows = await waitFor(async () => (await db.pool.query('select outcome, unit, target from ivr_call where call_id = $1', [callId])).rows, (x) => x.length > 0, 10_000);
    expect(rows).toEqual([{ outcome: 'completed', unit: 'line', target: '0611112222' }]);
  }, 120_000);

  it('a stopping node answers OPTIONS 503, gets no new calls, and finishes its own', async () => {
    const a = nodes.get('a');
    // A call of its own: the line answers after 3 s of ringing, the caller hangs up 0.5 s later.
    const ownLine = await startSipp({ scenario: SCEN('notify-uas-answer'), localPort: answeredLine, calls: 1, timeoutMs: 60_000, extraArgs: ['-d', '3000'] });
    const own = await startSipp({
      scenario: SCEN('notify-uac-answer'), remote: { port: sipPorts[0]! }, service: ANSWERED, calls: 1, keys: KEYS, timeoutMs: 60_000,
      traceMessages: true, extraArgs: ['-d', '500'],
    });
    await new Promise((r) => setTimeout(r, 1_000));
    a!.child.kill('SIGTERM');
    // From the moment it refuses new calls, its answer to the dispatcher's probe says so.
    expect(await waitFor(() => options(sipPorts[0]!), (s) => s !== 'SIP/2.0 200 OK', 5_000)).toMatch(/^SIP\/2\.0 503 /);
    const ownResult = await own.done;
    expect(ownResult.exitCode, sippSummary(ownResult)).toBe(0);
    await ownLine.stop();

    // New calls meanwhile: every one completes, on the other node.
    const before = recordedBy(a!);
    const line = await startSipp({ scenario: SCEN('notify-uas-answer'), localPort: answeredLine, calls: 6, timeoutMs: 60_000, extraArgs: ['-d', '0'] });
    const callers = await runSipp({
      scenario: SCEN('notify-uac-answer'), remote: { port: kamailio!.port }, service: ANSWERED, calls: 6, rate: 3, keys: KEYS,
      timeoutMs: 60_000, traceMessages: true, extraArgs: ['-d', '100'],
    });
    expect(callers.exitCode, sippSummary(callers)).toBe(0);
    await line.stop();
    const newCalls = new Set(tracedMessages(callers.messages).map((m) => m.callId));
    expect(newCalls.size).toBe(6);
    await waitFor(async () => [...newCalls].filter((c) => recordedBy(nodes.get('b')!).has(c)), (c) => c.length === 6, 15_000);
    expect([...recordedBy(a!)].filter((c) => newCalls.has(c) && !before.has(c))).toEqual([]);

    expect(await exitCode(a!)).toBe(0);
    const ownId = tracedMessages(ownResult.messages)[0]!.callId;
    const { rows } = await db.pool.query('select status, final_status, end_reason from incoming_call where call_id = $1', [ownId]);
    expect(rows).toEqual([{ status: '通話', final_status: 200, end_reason: null }]);
  }, 120_000);

  it('a node lost for good: its callers get 480 at once, its ringing calls are recorded and mailed once by the other node, its lines CANCELled', async () => {
    // The stopped node comes back (a new node on the same address) and the dispatcher sees it again.
    await startNode('a2', sipPorts[0]!);
    await waitFor(async () => kamailio!.output(), (o) => o.includes(`chakushin node up: sip:127.0.0.1:${sipPorts[0]}`), 20_000);
    const b = nodes.get('b')!;
    const bId = (await db.pool.query('select id from sip_node where pid = $1', [b.child.pid])).rows[0].id as string;

    const lines = await startSipp({ scenario: SCEN('notify-uas-ring-until-cancel'), localPort: ringingLine, calls: 4, timeoutMs: 90_000, traceMessages: true });
    const callers = await startSipp({
      scenario: SCEN('notify-uac-ring-or-lost'), remote: { port: kamailio!.port }, service: RINGING, calls: 4, rate: 10, keys: KEYS,
      timeoutMs: 90_000, traceMessages: true,
    });
    const journal = await waitFor(
      async () => (await db.pool.query('select call_id, node_id, legs, ring_at from call_journal where called_number = $1', [RINGING])).rows,
      (j) => j.length === 4 && j.every((r) => r.ring_at && r.legs.length === 1), 15_000,
    );
    const onB = journal.filter((r) => r.node_id === bId);
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.length).toBeLessThan(4);

    const killedAt = Date.now();
    await b.killGroup9();
    const callerResult = await callers.done;
    expect(callerResult.exitCode, sippSummary(callerResult)).toBe(0);
    const traced = tracedMessages(callerResult.messages);
    for (const row of journal) {
      const finals = traced.filter((m) => !m.sent && m.callId === row.call_id && /^SIP\/2\.0 (4|5|6)\d\d /.test(m.text));
      if (row.node_id === bId) {
        // The dispatcher's answer once the node stopped answering its probes: seconds, not a transaction timer.
        expect(finals.map((m) => m.text.split('\r\n')[0])).toEqual(['SIP/2.0 480 Temporarily Unavailable']);
        expect(finals[0]!.at.getTime() - killedAt).toBeLessThan(8_000);
      } else {
        expect(finals.map((m) => m.text.split(' ')[1])).toEqual(['487']);
      }
    }

    // After the lease, the other node records the lost node's calls, once, and mails them.
    const rows = await waitFor(() => rowsOf(RINGING), (r) => r.length === 4, 30_000);
    for (const row of rows) {
      const wasOnB = onB.some((j) => j.call_id === row.call_id);
      expect(row).toMatchObject(wasOnB
        ? { status: '応答なし', final_status: null, end_reason: 'service_crashed' }
        : { status: '応答なし', final_status: 487, end_reason: null });
    }
    const mails = await waitFor(() => mailsOf(RINGING), (m) => m.length === 4 && m.every((x) => x.state === 'sent'), 20_000);
    expect(new Set(mails.map((m) => m.call_id)).size).toBe(4);
    expect((await db.pool.query('select count(*)::int as n from call_journal')).rows[0].n).toBe(0);
    expect((await db.pool.query('select id from sip_node where id = $1', [bId])).rows).toEqual([]);

    // Its lines got a CANCEL matching their INVITE (same branch), from the node that took over.
    const lineResult = await lines.done;
    expect(lineResult.exitCode, sippSummary(lineResult)).toBe(0);
    const atLine = tracedMessages(lineResult.messages);
    for (const j of onB) {
      const leg = j.legs[0] as { callId: string; via: string };
      const cancel = atLine.find((m) => !m.sent && m.callId === leg.callId && m.text.startsWith('CANCEL '));
      expect(cancel, `no CANCEL for ${leg.callId}`).toBeDefined();
      expect(cancel!.text).toContain(`Via: ${leg.via}`);
    }
  }, 150_000);
});
