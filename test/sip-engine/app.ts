// A small drachtio-srf app for the engine's end-to-end tests. What it does with a call depends on the
// user part of the Request-URI, so one connected app serves every SIPp scenario:
//   answer      200 with SDP, waits for the caller's BYE
//   hangup      200, then sends BYE itself after the ACK
//   ring        180 only (the caller CANCELs)
//   busy        486
//   info        200, then answers INFO in the dialog with 200
//   noack       200; the caller never ACKs, so the engine must send BYE
//   b2b-PORT    srf.createB2BUA to sip:callee@127.0.0.1:PORT (same transport as the caller)
// OPTIONS is answered 200 with an Allow header.
import Srf from 'drachtio-srf';

export const SDP = [
  'v=0', 'o=chakushin 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
].join('\r\n');

export interface TestApp {
  srf: Srf;
  /** What the app saw, for assertions: one line per event. */
  events: string[];
  /** Source address/port/protocol of every new INVITE, as drachtio-srf exposes them. */
  sources: { address: string; port: number; protocol: string; pai?: string; privacy?: string }[];
  close(): void;
}

export async function startTestApp(admin: { host: string; port: number }, secret: string): Promise<TestApp> {
  const srf = new Srf();
  const events: string[] = [];
  const sources: TestApp['sources'] = [];
  const log = (e: string) => events.push(e);

  // Typed in srf's d.ts only as an event; at runtime it registers the OPTIONS route like srf.invite.
  (srf as unknown as { options(fn: (req: Srf.SrfRequest, res: Srf.SrfResponse) => void): void }).options((req, res) => {
    log('options');
    res.send(200, { headers: { Allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO' } });
  });

  srf.invite(async (req, res) => {
    const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1] ?? '';
    const src: TestApp['sources'][number] = { address: req.source_address, port: Number(req.source_port), protocol: req.protocol };
    if (req.has('P-Asserted-Identity')) src.pai = req.get('P-Asserted-Identity');
    if (req.has('Privacy')) src.privacy = req.get('Privacy');
    sources.push(src);
    log(`invite:${user}`);
    try {
      if (user === 'busy') return res.send(486);
      if (user === 'ring') {
        req.on('cancel', () => log('cancel'));
        res.send(180);
        return;
      }
      if (user.startsWith('b2b-')) {
        const transport = req.protocol === 'tcp' ? ';transport=tcp' : '';
        const { uac, uas } = await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${user.slice(4)}${transport}`, {
          localSdpB: req.body, proxyRequestHeaders: ['P-Asserted-Identity', 'Privacy'],
        });
        log('b2b:connected');
        uas.on('destroy', () => { log('b2b:caller-bye'); uac.destroy(); });
        uac.on('destroy', () => { log('b2b:callee-bye'); uas.destroy(); });
        return;
      }
      const uas = await srf.createUAS(req, res, { localSdp: SDP });
      log('answered');
      // A BYE the engine made itself (source=application) carries why: drachtio-srf passes its Reason text.
      uas.on('destroy', (bye: Srf.SrfRequest, reason?: string) => log(bye.source === 'application' ? `bye:${reason}` : 'bye'));
      uas.on('info', (infoReq, infoRes) => { log('info'); infoRes.send(200); });
      if (user === 'hangup') uas.on('ack', () => setTimeout(() => { void uas.destroy(); log('hungup'); }, 200));
    } catch (err) {
      const e = err as { status?: number; message?: string };
      log(`error:${e.status ?? e.message}`);
    }
  });

  await new Promise<void>((resolve, reject) => {
    srf.connect({ host: admin.host, port: admin.port, secret });
    srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    srf.once('error', reject);
  });
  return { srf, events, sources, close: () => srf.disconnect() };
}
