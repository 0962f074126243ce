// The drachtio admin socket against clients that do not hold the secret: a flood of oversized
// frames, wrong secrets, silence and trickled bytes, all over real sockets to an engine in its own process.
import net from 'node:net';
import Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '../support/engine-process.ts';

const SECRET = 'admin-socket-test-secret';
const LIMITS = { adminAuthTimeoutMs: 1000, adminFailureDelayMs: 200, adminFailureDelayMaxMs: 1600 };

let engine: EngineProcess;
beforeAll(async () => {
  engine = await startEngineProcess({ secret: SECRET, limits: LIMITS });
});
afterAll(async () => {
  await engine?.stop();
});

interface RawClient {
  sock: net.Socket;
  /** Frames received, without their length prefix. */
  frames: string[];
  /** Resolves with ms since connect when the engine closes the connection. */
  closed: Promise<number>;
  nextFrame(ms?: number): Promise<string>;
}

async function connect(localAddress = '127.0.0.1'): Promise<RawClient> {
  const sock = net.connect({ host: '127.0.0.1', port: engine.admin.port, localAddress });
  sock.on('error', () => {});
  await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
  const t0 = Date.now();
  const frames: string[] = [];
  let waiter: (() => void) | undefined;
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString('latin1');
    for (let m = /^(\d+)#/.exec(buf); m && buf.length >= m[0].length + Number(m[1]); m = /^(\d+)#/.exec(buf)) {
      frames.push(buf.slice(m[0].length, m[0].length + Number(m[1])));
      buf = buf.slice(m[0].length + Number(m[1]));
      waiter?.();
    }
  });
  const closed = new Promise<number>((r) => sock.once('close', () => { r(Date.now() - t0); waiter?.(); }));
  return {
    sock, frames, closed,
    async nextFrame(ms = 5000) {
      const end = Date.now() + ms;
      while (!frames.length) {
        if (sock.destroyed || Date.now() > end) throw new Error('no frame');
        await new Promise<void>((r) => { waiter = r; setTimeout(r, 50); });
      }
      return frames.shift()!;
    },
  };
}

const frame = (body: string) => `${Buffer.byteLength(body)}#${body}`;
const authenticate = (secret: string, id = 'a1') => frame(`${id}|authenticate|${secret}|`);
const verdict = (f: string) => f.split('|').slice(3).join('|');

/** Time until the answer to one authenticate on a new connection, with the answer and whether the engine then closed it. */
async function attempt(secret: string, localAddress?: string): Promise<{ ms: number; answer: string; client: RawClient }> {
  const c = await connect(localAddress);
  const t0 = Date.now();
  c.sock.write(authenticate(secret));
  const answer = verdict(await c.nextFrame());
  return { ms: Date.now() - t0, answer, client: c };
}

describe('admin socket before authentication', () => {
  it('closes each of a flood of connections sending `999999#` and junk at once; engine memory stays bounded', async () => {
    const before = engine.memory();
    const junk = Buffer.concat([Buffer.from('999999#'), Buffer.alloc(256 * 1024, 'x')]);
    const closedAt: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const clients = await Promise.all(Array.from({ length: 100 }, () => connect()));
      for (const c of clients) c.sock.write(junk);
      const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000));
      const all = await Promise.race([Promise.all(clients.map((c) => c.closed)), deadline]);
      for (const c of clients) c.sock.destroy();
      expect(all, `batch ${batch}: not every connection was closed by the engine`).not.toBe('timeout');
      closedAt.push(...(all as number[]));
      expect(clients.every((c) => c.frames.length === 0)).toBe(true);
    }
    const after = engine.memory();
    // 400 × 256 KB went at the engine; what it may keep of it is the first read of each, briefly.
    console.log(`admin flood: RSS ${before.rssMb.toFixed(1)} → ${after.rssMb.toFixed(1)} MB, peak ${after.peakMb.toFixed(1)} MB; slowest close ${Math.max(...closedAt)} ms`);
    expect(after.peakMb - before.rssMb).toBeLessThan(40);
    // The real app still gets in.
    const srf = new Srf();
    try {
      await new Promise<void>((resolve, reject) => {
        srf.connect({ host: '127.0.0.1', port: engine.admin.port, secret: SECRET });
        srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } finally {
      srf.disconnect();
    }
  });

  it('answers a wrong secret after a hold that doubles with each further one from the address, then closes', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { ms, answer, client } = await attempt(`wrong-${i}`, '127.0.0.5');
      expect(answer).toBe('NO|incorrect secret');
      await client.closed;
      delays.push(ms);
    }
    // 200, 400, 800, 1600 (the cap, longer than the 1 s to authenticate: the answer still comes); timers fire late, never early.
    expect(delays[0]).toBeGreaterThanOrEqual(190);
    expect(delays[1]).toBeGreaterThanOrEqual(390);
    expect(delays[2]).toBeGreaterThanOrEqual(790);
    expect(delays[3]).toBeGreaterThanOrEqual(1590);
    expect(delays[3]).toBeLessThan(2500);
  });

  it('while an address is held back checks no secret from it, not even the right one; other addresses are not held', async () => {
    const first = await attempt('wrong', '127.0.0.6');
    expect(first.answer).toBe('NO|incorrect secret');
    // The hold is the wait just served, doubled for the next wrong one: start a second, then try the right secret during it.
    const second = connect('127.0.0.6').then(async (c) => { c.sock.write(authenticate('wrong-again')); return c; });
    await second;
    await new Promise((r) => setTimeout(r, 50));
    const during = await attempt(SECRET, '127.0.0.6');
    expect(during.answer).toMatch(/^NO\|too many failed attempts, retry in \d+ s$/);
    await during.client.closed;
    const elsewhere = await attempt(SECRET, '127.0.0.7');
    expect(elsewhere.answer).toMatch(/^OK\|udp\//);
    expect(elsewhere.ms).toBeLessThan(150);
    elsewhere.client.sock.destroy();
    // The wrong secret's answer comes when its hold ends; from then on the address is checked again.
    expect(verdict(await (await second).nextFrame())).toBe('NO|incorrect secret');
    const afterHold = await attempt(SECRET, '127.0.0.6');
    expect(afterHold.answer).toMatch(/^OK\|/);
    afterHold.client.sock.destroy();
  });

  it('takes one frame before authentication: 2,000 wrong secrets in one write, or a ping, end the connection', async () => {
    const c = await connect('127.0.0.8');
    c.sock.write(Array.from({ length: 2000 }, (_, i) => authenticate(`guess${i}`, `m${i}`)).join(''));
    expect(await c.closed).toBeLessThan(500);
    expect(c.frames).toEqual([]);
    const p = await connect('127.0.0.8');
    p.sock.write(frame('p1|ping'));
    expect(verdict(await p.nextFrame())).toBe('NO|not authenticated');
    await p.closed;
  });

  it('closes a connection that does not authenticate in time, however it trickles bytes', async () => {
    const silent = await connect('127.0.0.9');
    const trickle = await connect('127.0.0.9');
    trickle.sock.write('100#');
    const timer = setInterval(() => trickle.sock.write('x'), 50);
    try {
      const [s, t] = await Promise.all([silent.closed, trickle.closed]);
      for (const ms of [s, t]) {
        expect(ms).toBeGreaterThanOrEqual(LIMITS.adminAuthTimeoutMs - 20);
        expect(ms).toBeLessThan(LIMITS.adminAuthTimeoutMs + 1500);
      }
    } finally {
      clearInterval(timer);
    }
  });
});

describe('admin socket after authentication', () => {
  it('bounds the frame length prefix by the largest frame it accepts', async () => {
    for (const prefix of ['9999999#', '70000#']) {
      const { answer, client } = await attempt(SECRET, '127.0.0.10');
      expect(answer).toMatch(/^OK\|/);
      client.sock.write(prefix + 'x'.repeat(1000));
      expect(await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('open'), 2000))])).not.toBe('open');
    }
  });
});
