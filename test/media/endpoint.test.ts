// The built-in RTP endpoint over real UDP sockets on 127.0.0.1.
import dgram from 'node:dgram';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinMediaServer, HangupError, loadPromptLibrary, PortsExhaustedError, type BuiltinMediaServer, type PromptLibrary } from '../../src/media/index.ts';
import { decodeG711, encodeG711 } from '../../src/media/g711.ts';
import { Caller, sleep, until } from './caller.ts';

let prompts: PromptLibrary;
let server: BuiltinMediaServer;
const callers: Caller[] = [];

async function caller(): Promise<Caller> {
  const c = await Caller.create();
  callers.push(c);
  return c;
}

beforeAll(async () => {
  prompts = await loadPromptLibrary({ dir: path.resolve('prompts') });
  server = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts });
});
afterEach(() => {
  while (callers.length) callers.pop()!.close();
});
afterAll(() => server.close());

const collectOpts = { max: 4, terminators: ['#'], firstDigitTimeoutMs: 3000, interDigitTimeoutMs: 2000 };

describe('built-in RTP endpoint', () => {
  it('plays a prompt as paced 20 ms µ-law packets framed by silence', async () => {
    const registry = new Registry();
    server.registerMetrics(registry);
    const stalls = async () => (await registry.getSingleMetric('chakushin_media_pacer_stalls_total')!.get()).values[0]!.value;
    const stallsBefore = await stalls();
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'play' });
    await sleep(100);
    await session.play([{ prompt: 'digit_5' }]);
    await sleep(100);
    await session.close();
    const pkts = c.arrivals.map((a) => a.pkt);
    expect(pkts.length).toBeGreaterThan(20);
    expect(pkts.every((p) => p.payloadType === 0 && p.payload.length === 160)).toBe(true);
    expect(pkts.map((p) => p.marker)).toEqual(pkts.map((_, i) => i === 0));
    // One frame apart; only a pacer stall (a busy machine) makes the timestamp jump, by whole frames.
    let jumps = 0;
    for (let i = 1; i < pkts.length; i++) {
      expect((pkts[i]!.sequence - pkts[i - 1]!.sequence) & 0xffff).toBe(1);
      const step = (pkts[i]!.timestamp - pkts[i - 1]!.timestamp) >>> 0;
      expect(step % 160).toBe(0);
      if (step !== 160) jumps++;
    }
    expect(jumps).toBeLessThanOrEqual((await stalls()) - stallsBefore);
    // The clip's frames, in order, between idle frames.
    const clip = prompts.get('digit_5').encoded.ulaw;
    const stream = Buffer.concat(pkts.map((p) => p.payload));
    const at = stream.indexOf(clip);
    expect(at).toBeGreaterThan(0);
    expect(at % 160).toBe(0);
    expect(stream.subarray(0, at).every((b) => b === 0xff)).toBe(true);
    expect(stream.subarray(at + clip.length).every((b) => b === 0xff)).toBe(true);
    // Paced, not burst: the packets span the time their timestamps say (8 units a millisecond).
    const span = c.arrivals.at(-1)!.at - c.arrivals[0]!.at;
    const stamped = ((pkts.at(-1)!.timestamp - pkts[0]!.timestamp) >>> 0) / 8;
    expect(span / stamped).toBeGreaterThan(0.8);
    expect(span / stamped).toBeLessThan(1.2);
  });

  it('plays A-law to an A-law caller and joins digit clips for a number', async () => {
    const c = await caller();
    const session = await server.open(c.offer('PCMA', 8), { callId: 'alaw' });
    await session.play([{ digits: '06' }]);
    await sleep(50);
    await session.close();
    const stream = Buffer.concat(c.arrivals.map((a) => a.pkt.payload));
    expect(c.arrivals.every((a) => a.pkt.payloadType === 8)).toBe(true);
    const both = Buffer.concat([prompts.get('digit_0').encoded.alaw, prompts.get('digit_6').encoded.alaw]);
    expect(stream.indexOf(both)).toBeGreaterThanOrEqual(0);
  });

  it('reads RFC 4733 digits, including a repeated one, and stops at the terminator', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'dtmf' });
    const port = Caller.answerPort(session.localSdp);
    const result = session.collect({ ...collectOpts, max: 10 });
    for (const k of '0611#') await c.press(port, k);
    expect(await result).toEqual({ digits: '0611', terminator: '#', reason: 'terminator' });
    await session.close();
  });

  it('answers with the caller telephone-event payload type and reads events on it', async () => {
    const c = await caller();
    const session = await server.open(c.offer('PCMU', 0, 96), { callId: 'pt96' });
    expect(session.localSdp).toContain('a=rtpmap:96 telephone-event/8000');
    const port = Caller.answerPort(session.localSdp);
    await c.press(port, '7', 101); // wrong type: ignored
    await c.press(port, '8', 96);
    expect(await session.collect({ ...collectOpts, max: 1 })).toEqual({ digits: '8', reason: 'max' });
    expect(server.stats.ignored.unknown_payload).toBeGreaterThan(0);
    await session.close();
  });

  it('barge-in: a key stops the prompt at once and is kept for the next collect', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'barge' });
    const port = Caller.answerPort(session.localSdp);
    const started = Date.now();
    const played = session.play([{ prompt: 'a_unit_menu' }], { bargeIn: true });
    await sleep(300);
    await c.press(port, '2');
    await played;
    expect(Date.now() - started).toBeLessThan(prompts.get('a_unit_menu').pcm.length / 8);
    expect(await session.collect({ ...collectOpts, max: 1 })).toEqual({ digits: '2', reason: 'max' });
    // Type-ahead: with a key already buffered, a barge-in prompt is skipped.
    session.injectInfo('application/dtmf', '3');
    await session.play([{ prompt: 'a_unit_menu' }], { bargeIn: true });
    expect(await session.collect({ ...collectOpts, max: 1 })).toEqual({ digits: '3', reason: 'max' });
    await session.close();
  });

  it('keeps keys pressed during a prompt without barge-in for the next collect', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'buffer' });
    const port = Caller.answerPort(session.localSdp);
    const played = session.play([{ prompt: 'digit_1' }, { prompt: 'digit_2' }]);
    await c.press(port, '4');
    await c.press(port, '2');
    await played;
    expect(await session.collect({ ...collectOpts, interDigitTimeoutMs: 300 })).toEqual({ digits: '42', reason: 'timeout' });
    await session.close();
  });

  it('a caller who never sends RTP still hears prompts and gets timeouts', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'silent' });
    await session.play([{ prompt: 'digit_9' }]);
    expect(c.arrivals.length).toBeGreaterThan(10);
    expect(await session.collect({ ...collectOpts, firstDigitTimeoutMs: 150 })).toEqual({ digits: '', reason: 'timeout' });
    await session.close();
  });

  it('takes keys from SIP INFO and reports each key to digit listeners', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'info' });
    const heard: string[] = [];
    session.onDigit((d) => heard.push(d));
    expect(session.injectInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160')).toBe(true);
    expect(session.injectInfo('application/dtmf', 'x')).toBe(false);
    expect(session.injectInfo('text/plain', '7')).toBe(false);
    expect(session.injectInfo('application/dtmf', '#')).toBe(true);
    expect(await session.collect(collectOpts)).toEqual({ digits: '5', terminator: '#', reason: 'terminator' });
    expect(heard).toEqual(['5', '#']);
    session.injectInfo('application/dtmf', '9');
    session.flushDigits();
    expect(await session.collect({ ...collectOpts, firstDigitTimeoutMs: 100 })).toEqual({ digits: '', reason: 'timeout' });
    await session.close();
  });

  it('hangup during play and collect ends both at once with HangupError and frees the port', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'hangup' });
    const played = session.play([{ prompt: 'a_unit_menu' }]);
    const t0 = Date.now();
    setTimeout(() => void session.close(), 100);
    await expect(played).rejects.toBeInstanceOf(HangupError);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(session.collect(collectOpts)).rejects.toBeInstanceOf(HangupError);
    await expect(session.play([{ prompt: 'digit_1' }])).rejects.toBeInstanceOf(HangupError);
    const s2 = await server.open(c.offer(), { callId: 'hangup2' });
    const collecting = s2.collect(collectOpts);
    await s2.close();
    await expect(collecting).rejects.toBeInstanceOf(HangupError);
    await sleep(20);
    const before = c.arrivals.length;
    await sleep(100);
    expect(c.arrivals.length).toBe(before);
  });

  it('latches onto the first source and ignores RTP from anyone else', async () => {
    const real = await caller();
    const intruder = await caller();
    const advertised = await caller();
    const session = await server.open(advertised.offer(), { callId: 'latch' });
    const port = Caller.answerPort(session.localSdp);
    const ignoredBefore = server.stats.ignored.unexpected_source;
    await real.send(port, 0, encodeG711('ulaw', new Int16Array(160)));
    await until(() => real.arrivals.length > 3);
    await intruder.press(port, '9');
    await real.press(port, '1');
    expect(await session.collect({ ...collectOpts, max: 1 })).toEqual({ digits: '1', reason: 'max' });
    expect(server.stats.ignored.unexpected_source - ignoredBefore).toBe(6);
    const sentToAdvertised = advertised.arrivals.length;
    await sleep(100);
    expect(advertised.arrivals.length).toBe(sentToAdvertised);
    await session.close();
  });

  it('counts and ignores garbage datagrams', async () => {
    const c = await caller();
    const session = await server.open(c.offer(), { callId: 'garbage' });
    const port = Caller.answerPort(session.localSdp);
    const before = server.stats.ignored.malformed;
    for (const junk of [Buffer.alloc(0), Buffer.from('INVITE sip:x SIP/2.0'), Buffer.alloc(11, 0x80), Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]), Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]) {
      await c.sendRaw(port, junk);
    }
    await until(() => server.stats.ignored.malformed - before === 5);
    await c.press(port, '6');
    expect(await session.collect({ ...collectOpts, max: 1 })).toEqual({ digits: '6', reason: 'max' });
    await session.close();
  });

  it('exposes its counters to prometheus', async () => {
    const registry = new Registry();
    server.registerMetrics(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/chakushin_media_rtp_sent_total [1-9]\d*/);
    expect(text).toMatch(/chakushin_media_dtmf_total\{source="rfc4733"\} [1-9]/);
    expect(text).toMatch(/chakushin_media_dtmf_total\{source="info"\} [1-9]/);
    expect(text).toMatch(/chakushin_media_rtp_ignored_total\{reason="malformed"\} [1-9]/);
    expect(text).toMatch(/chakushin_media_sessions_active 0/);
  });
});

describe('built-in endpoint options', () => {
  it('takes RTP ports from the configured range and refuses when it is exhausted', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const free = probe.address().port & ~1;
    probe.close();
    const s = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: free, portMax: free + 1, prompts });
    const c = await caller();
    const one = await s.open(c.offer(), { callId: 'a' });
    expect(Caller.answerPort(one.localSdp)).toBe(free);
    await expect(s.open(c.offer(), { callId: 'b' })).rejects.toBeInstanceOf(PortsExhaustedError);
    await one.close();
    const again = await s.open(c.offer(), { callId: 'c' });
    expect(Caller.answerPort(again.localSdp)).toBe(free);
    await s.close();
    expect(s.stats.portsExhausted).toBe(1);
  });

  it('detects in-band tones when enabled', async () => {
    const s = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts, inbandDtmf: true });
    const c = await caller();
    const session = await s.open(c.offer('PCMU', 0, undefined), { callId: 'inband' });
    const port = Caller.answerPort(session.localSdp);
    const tone = (lo: number, hi: number, ms: number) =>
      Int16Array.from({ length: (ms * 8000) / 1000 }, (_, i) => Math.round(5000 * Math.sin((2 * Math.PI * lo * i) / 8000) + 5000 * Math.sin((2 * Math.PI * hi * i) / 8000)));
    const audio = [tone(0, 0, 60), tone(852, 1336, 100), tone(0, 0, 80), tone(697, 1209, 100), tone(0, 0, 60)];
    const all = Int16Array.from(audio.flatMap((a) => Array.from(a)));
    for (let i = 0; i < all.length; i += 160) await c.send(port, 0, encodeG711('ulaw', all.subarray(i, i + 160)));
    expect(await session.collect({ ...collectOpts, max: 2 })).toEqual({ digits: '81', reason: 'max' });
    expect(s.stats.digits.inband).toBe(2);
    expect(decodeG711('ulaw', encodeG711('ulaw', Int16Array.of(0)))[0]).toBe(0);
    await s.close();
  });
});
