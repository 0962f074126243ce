// The built-in endpoint's MediaBridge (ボイスワープ's anchored calls) over real UDP on 127.0.0.1:
// the caller hears our prompt until the far party answers, then the two hear each other through
// the endpoint, packets unchanged, each side latched.
import path from 'node:path';
import { parse } from 'sdp-transform';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinMediaServer, HangupError, loadPromptLibrary, UnsupportedMediaError, type BuiltinMediaServer } from '../../src/media/index.ts';
import { Caller, sleep, until } from './caller.ts';

let server: BuiltinMediaServer;
const sockets: Caller[] = [];
async function party(): Promise<Caller> {
  const c = await Caller.create();
  sockets.push(c);
  return c;
}

beforeAll(async () => {
  server = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts: await loadPromptLibrary({ dir: path.resolve('prompts') }) });
});
afterEach(() => {
  while (sockets.length) sockets.pop()!.close();
});
afterAll(() => server.close());

describe('MediaBridge on the built-in endpoint', () => {
  it('offers the caller’s codec and telephone-event, then relays both ways unchanged', async () => {
    const caller = await party();
    const far = await party();
    const session = await server.open(caller.offer('PCMA', 8, 96), { callId: 'bridge' });
    const callerSide = Caller.answerPort(session.localSdp);
    const bridge = await session.openBridge();
    const offer = parse(bridge.offerSdp).media[0]!;
    expect(offer.payloads).toBe('8 96');
    expect(offer.rtp.map((r) => `${r.payload} ${r.codec}`)).toEqual(['8 PCMA', '96 telephone-event']);
    const farSide = offer.port;
    expect(farSide).not.toBe(callerSide);

    // Before connect: our frames (silence here) go to the caller, nothing to the far party.
    await until(() => caller.arrivals.length >= 3);
    await caller.send(callerSide, 8, Buffer.alloc(160, 0x11));
    await sleep(50);
    expect(far.arrivals).toHaveLength(0);

    await bridge.connect(far.offer('PCMA', 8, 96));
    await sleep(60);
    const ours = caller.arrivals.length;
    await caller.send(callerSide, 8, Buffer.alloc(160, 0x22));
    await far.send(farSide, 8, Buffer.alloc(160, 0x33));
    await until(() => far.arrivals.length >= 1 && caller.arrivals.some((a) => a.pkt.payload[0] === 0x33));
    expect(far.arrivals[0]!.pkt).toMatchObject({ ssrc: caller.ssrc, payloadType: 8 });
    expect(far.arrivals[0]!.pkt.payload.every((b) => b === 0x22)).toBe(true);
    expect(far.arrivals[0]!.from).toBe(farSide);
    const relayed = caller.arrivals.find((a) => a.pkt.payload[0] === 0x33)!;
    expect(relayed.pkt.ssrc).toBe(far.ssrc);
    // The caller keeps hearing us from the one port its SDP answer named.
    expect(relayed.from).toBe(callerSide);
    // Our own stream stopped: only the relayed packet arrived since.
    await sleep(100);
    expect(caller.arrivals.length - ours).toBe(1);
    // A stranger cannot inject into the far side once it is latched.
    const stranger = await party();
    await stranger.send(farSide, 8, Buffer.alloc(160, 0x44));
    await sleep(50);
    expect(caller.arrivals.some((a) => a.pkt.payload[0] === 0x44)).toBe(false);
    await session.close();
    await expect(session.openBridge()).rejects.toBeInstanceOf(HangupError);
  });

  it('a prompt playing when the far party answers stops', async () => {
    const caller = await party();
    const far = await party();
    const session = await server.open(caller.offer(), { callId: 'bridge-prompt' });
    const bridge = await session.openBridge();
    const playing = session.play([{ prompt: 'a_unit_menu' }]);
    await sleep(100);
    await bridge.connect(far.offer());
    await playing;
    await session.close();
  });

  it('refuses an answer that changes the codec or has no audio', async () => {
    const caller = await party();
    const far = await party();
    const session = await server.open(caller.offer('PCMU', 0), { callId: 'bridge-codec' });
    const bridge = await session.openBridge();
    await expect(bridge.connect(far.offer('PCMA', 8))).rejects.toBeInstanceOf(UnsupportedMediaError);
    await expect(bridge.connect('v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n')).rejects.toBeInstanceOf(UnsupportedMediaError);
    await expect(session.openBridge()).rejects.toThrow(/one bridge/);
    await session.close();
  });
});
