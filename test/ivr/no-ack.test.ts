// An IVR call whose 200 OK is never acknowledged: no prompt is played (the media address may be
// anyone's), the call ends with a BYE, its media stops, and it is recorded as no_ack — whether the
// service's own ACK timer (ivr.ackTimeoutSec) or the SIP stack's ACK timeout (64·T1, a BYE it sends
// itself and reports to the app, as drachtio-server does) comes first.
// (The built-in endpoint sends silence frames from the moment a session opens; only prompts wait for the ACK.)
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

let own: IvrHarness;
let stack: IvrHarness;
beforeAll(async () => {
  [own, stack] = await Promise.all([startIvrHarness({ ivr: { ackTimeoutSec: 2 } }), startIvrHarness({ ivr: { ackTimeoutSec: 120 } })]);
});
afterAll(async () => {
  await Promise.all([own?.stop(), stack?.stop()]);
});

/** μ-law silence: what the endpoint sends when no prompt plays. */
const PCMU_SILENCE = 0xff;

/** A UDP socket where the caller's SDP points media; counts the RTP packets sent there, and those carrying sound. */
async function mediaSink(): Promise<{ port: number; packets: () => number; withSound: () => number; close: () => void }> {
  const port = await freePort('udp');
  const socket = dgram.createSocket('udp4');
  let n = 0;
  let sound = 0;
  socket.on('message', (msg) => {
    n++;
    if (msg.subarray(12).some((b) => b !== PCMU_SILENCE)) sound++;
  });
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r));
  return { port, packets: () => n, withSound: () => sound, close: () => socket.close() };
}

describe.concurrent('temp-password IVR, no ACK', () => {
  for (const [name, which, caller, endsWithinMs] of [
    ['the service’s ACK timer', () => own, '0611112222', 10_000],
    ['the SIP stack’s ACK timeout (BYE reported to the app)', () => stack, '0611113333', 45_000],
  ] as const) {
    it(`ended by ${name}: BYE, no media sent, recorded as no_ack`, async ({ expect }) => {
      const h = which();
      const sink = await mediaSink();
      const started = Date.now();
      try {
        const { callId } = await h.call('ivr-no-ack.xml', { caller, dialled: ACCESS.A_WEST, keys: { mport: String(sink.port) } });
        expect(Date.now() - started).toBeLessThan(endsWithinMs);
        expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'no_ack', reason: 'ack_timeout', caller, target: null });
        expect(sink.withSound()).toBe(0);
        // Media stopped with the call.
        const sent = sink.packets();
        await new Promise((r) => setTimeout(r, 1_000));
        expect(sink.packets()).toBe(sent);
        expect(await h.tempPasswordState(caller)).toBe('none');
      } finally {
        sink.close();
      }
    });
  }
});
