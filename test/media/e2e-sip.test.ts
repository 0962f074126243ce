// End to end over SIP: SIPp calls a tiny drachtio-srf application on the built-in SIP
// engine; the application answers with the built-in media endpoint, plays a prompt and
// reads the keys SIPp sends as RFC 4733 (sip-tester pcaps) and SIP INFO.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Srf from 'drachtio-srf';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinMediaServer, loadPromptLibrary, UnsupportedMediaError, type BuiltinMediaServer, type CollectResult } from '../../src/media/index.ts';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';
import { parseRtp } from '../../src/media/rtp.ts';
import { scenarioWithRisingDtmf } from '../support/dtmf-pcaps.ts';

let engine: Engine;
let srf: Srf;
let media: BuiltinMediaServer;
const results: CollectResult[] = [];
const failures: unknown[] = [];

async function udpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function sipp(scenario: string, args: string[]): Promise<{ code: number | null; output: string }> {
  // Each RFC 4733 press gets its own capture, rising in sequence number and timestamp (test/support/dtmf-pcaps.ts).
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-media-e2e-'));
  const file = await scenarioWithRisingDtmf(path.resolve('test/sipp', scenario), dir);
  return new Promise((resolve) => {
    const child = spawn('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-nostdin', '-timeout', '30s', '-timeout_error', ...args, `127.0.0.1:${engine.sipAddress.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => void rm(dir, { recursive: true, force: true }).then(() => resolve({ code, output })));
  });
}

beforeAll(async () => {
  engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: 'media-e2e' });
  media = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts: await loadPromptLibrary({ dir: path.resolve('prompts') }) });
  srf = new Srf();
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', () => resolve());
    srf.on('error', reject);
    srf.connect({ host: engine.adminAddress.host, port: engine.adminAddress.port, secret: 'media-e2e' });
  });
  srf.invite(async (req, res) => {
    try {
      const session = await media.open(req.body, { callId: req.get('Call-ID') }).catch((err: unknown) => {
        if (err instanceof UnsupportedMediaError) res.send(488, { headers: { Warning: err.warning } });
        throw err;
      });
      const dialog = await srf.createUAS(req, res, { localSdp: session.localSdp });
      dialog.on('destroy', () => void session.close());
      dialog.on('info', (info: Srf.SrfRequest, infoRes: Srf.SrfResponse) => {
        session.injectInfo(info.get('Content-Type'), info.body);
        infoRes.send(200);
      });
      await session.play([{ prompt: 'a_enter_number' }], { bargeIn: true });
      results.push(await session.collect({ max: 11, terminators: ['#'], firstDigitTimeoutMs: 10_000, interDigitTimeoutMs: 5_000 }));
      dialog.destroy();
      await session.close();
    } catch (err) {
      if (!(err instanceof UnsupportedMediaError)) failures.push(err);
    }
  });
});

afterAll(async () => {
  srf?.disconnect();
  await media?.close();
  await engine?.close();
});

describe('media over SIP with SIPp', () => {
  it('plays the prompt as paced RTP and reads RFC 4733 and INFO keys exactly', async () => {
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    const registry = new Registry();
    media.registerMetrics(registry);
    const stalls = async () => (await registry.getSingleMetric('chakushin_media_pacer_stalls_total')!.get()).values[0]!.value;
    const stallsBefore = await stalls();
    const arrivals: { at: number; seq: number; ts: number }[] = [];
    sink.on('message', (msg) => {
      const p = parseRtp(msg);
      if (p) arrivals.push({ at: performance.now(), seq: p.sequence, ts: p.timestamp });
    });
    const run = await sipp('media-dtmf.xml', ['-s', '0363044747', '-set', 'rtpsink', String(sink.address().port), '-mp', String(await udpPort()), '-p', String(await udpPort())]);
    sink.close();
    expect(run.code, run.output).toBe(0);
    expect(failures).toEqual([]);
    expect(results).toEqual([{ digits: '061112', terminator: '#', reason: 'terminator' }]);
    // Until the first key latched the endpoint onto SIPp's media port, the prompt came to the sink:
    // about one second of 20 ms packets, in sequence, 160 timestamp units apart.
    expect(arrivals.length).toBeGreaterThan(40);
    expect(arrivals.length).toBeLessThan(70);
    // Only a pacer stall (a busy machine) makes the timestamp jump, by whole frames.
    let jumps = 0;
    for (let i = 1; i < arrivals.length; i++) {
      expect((arrivals[i]!.seq - arrivals[i - 1]!.seq) & 0xffff).toBe(1);
      const step = (arrivals[i]!.ts - arrivals[i - 1]!.ts) >>> 0;
      expect(step % 160).toBe(0);
      if (step !== 160) jumps++;
    }
    expect(jumps).toBeLessThanOrEqual((await stalls()) - stallsBefore);
    // Paced, not burst: the packets span the time their timestamps say (8 units a millisecond).
    const span = arrivals.at(-1)!.at - arrivals[0]!.at;
    const stamped = ((arrivals.at(-1)!.ts - arrivals[0]!.ts) >>> 0) / 8;
    expect(span / stamped).toBeGreaterThan(0.8);
    expect(span / stamped).toBeLessThan(1.2);
  });

  it('refuses a data-only call (データコネクト) with 488 and a Warning', async () => {
    const rejectedBefore = media.stats.offersRejected;
    const run = await sipp('media-unsupported.xml', ['-s', '0363044747', '-mp', String(await udpPort()), '-p', String(await udpPort())]);
    expect(run.code, run.output).toBe(0);
    expect(media.stats.offersRejected).toBe(rejectedBefore + 1);
  });
});
