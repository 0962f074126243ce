// A bounded TCP connection flood against the real `chakushin start` process, run with a small
// RLIMIT_NOFILE: the engine's caps keep descriptors free, so /healthz and an IVR call over UDP
// (which needs an RTP socket) still work during the flood; the idle flood is closed by the
// slow-loris guard, and then an IVR call over TCP works too.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, type SippTransport } from '../support/sipp.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NOFILE = 600;
const FD_RESERVE = 300; // leaves 300 descriptors for SIP TCP
const PER_ADDRESS = 40;
const FLOOD_ADDRESSES = 8; // 127.0.0.2 … 127.0.0.9
const FLOOD_PER_ADDRESS = 90; // 720 connections in all: more than the process could hold without the caps
const WITHHELD_ACCESS = '0664806430';

let db: TestDatabase;
let service: ReturnType<typeof spawn>;
let exited: Promise<number | null>;
let output = '';
let httpPort = 0;
let sipPort = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  const varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-flood-'));
  const configFile = path.join(varDir, 'config.json');
  await writeFile(configFile, JSON.stringify({ sip: { engineLimits: { fdReserve: FD_RESERVE, tcpMaxConnectionsPerAddress: PER_ADDRESS } } }));
  httpPort = await freePort('tcp');
  sipPort = await freePort('both');
  service = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, '--', process.execPath, 'src/cli/bin.mjs', 'start'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, CHAKUSHIN_CONFIG: configFile, DATABASE_URL: db.url, VAR_DIR: varDir, LOG_LEVEL: 'warn',
      HTTP_LISTEN: `127.0.0.1:${httpPort}`, SITE_LISTEN: '127.0.0.1:0', SIP_LISTEN: `127.0.0.1:${sipPort}`, ENGINE_ADMIN: '127.0.0.1:0',
      SMTP_CATCHER_LISTEN: '127.0.0.1:0', RTP_PORT_RANGE: '0-0',
    },
  });
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-20_000); };
  service.stdout!.on('data', keep);
  service.stderr!.on('data', keep);
  exited = new Promise((r) => service.once('exit', (code) => r(code)));
  for (let i = 0; ; i++) {
    if ((await healthz()) === 200) break;
    if (i > 300 || service.exitCode !== null) throw new Error(`service did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});
afterAll(async () => {
  service?.kill('SIGTERM');
  await exited;
  await db?.drop();
});

async function healthz(): Promise<number | string> {
  try {
    return (await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(3000) })).status;
  } catch (err) {
    return (err as Error).message;
  }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

function withheldCall(transport: SippTransport) {
  return runSipp({
    scenario: path.join(ROOT, 'test/sipp/ivr-reject-withheld.xml'), remote: { port: sipPort }, transport,
    service: WITHHELD_ACCESS, calls: 1, keys: { caller: '0611114444' }, timeoutMs: 30_000,
  });
}

interface FloodConn { closed: Promise<void>; isOpen: () => boolean; destroy: () => void }

/** An idle connection from `localAddress`; resolves once connected (or refused). */
function floodConnection(localAddress: string): Promise<FloodConn> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: sipPort, localAddress });
    let open = false;
    const closed = new Promise<void>((r) => sock.once('close', () => { open = false; r(); }));
    const conn = { closed, isOpen: () => open, destroy: () => sock.destroy() };
    sock.on('error', () => {});
    sock.once('connect', () => { open = true; resolve(conn); });
    sock.once('close', () => resolve(conn));
  });
}

it('keeps serving HTTP and calls through a TCP connection flood, and closes the idle flood', async () => {
  const refusedBefore = await metric('sip_engine_tcp_refused_total');
  const flood: FloodConn[] = [];
  const t0 = Date.now();
  for (let a = 0; a < FLOOD_ADDRESSES; a++) {
    flood.push(...await Promise.all(Array.from({ length: FLOOD_PER_ADDRESS }, () => floodConnection(`127.0.0.${a + 2}`))));
  }
  try {
    await new Promise((r) => setTimeout(r, 300));
    const held = flood.filter((c) => c.isOpen()).length;
    console.log(`flood: ${flood.length} connections in ${Date.now() - t0} ms, ${held} held by the engine`);
    expect(held).toBe(NOFILE - FD_RESERVE);
    expect(await metric('sip_engine_tcp_connections')).toBe(NOFILE - FD_RESERVE);
    expect(await metric('sip_engine_tcp_refused_total') - refusedBefore).toBe(flood.length - held);

    // During the flood: the descriptors kept in reserve serve HTTP and the RTP socket of an IVR call.
    expect(await healthz()).toBe(200);
    const udp = await withheldCall('udp');
    expect(udp.exitCode, sippSummary(udp)).toBe(0);

    // No flood connection ever completes a message: the engine closes all of them.
    const gone = await Promise.race([Promise.all(flood.map((c) => c.closed)), new Promise((r) => setTimeout(() => r('open'), 10_000))]);
    expect(gone, 'flood connections still open').not.toBe('open');
    expect(await metric('sip_engine_tcp_connections')).toBe(0);
    expect(await metric('sip_engine_tcp_timed_out_total')).toBeGreaterThanOrEqual(NOFILE - FD_RESERVE);
  } finally {
    for (const c of flood) c.destroy();
  }
  const tcp = await withheldCall('tcp');
  expect(tcp.exitCode, sippSummary(tcp)).toBe(0);
  expect(await healthz()).toBe(200);
  expect(output).not.toMatch(/EMFILE/);
});
