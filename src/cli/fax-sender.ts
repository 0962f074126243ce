// A FAX sender for tests and testers: calls a number through a SIP engine of its own (the built-in
// one, on free loopback ports, as SIPp is a UA of its own) and sends a TIFF/F file with spandsp's
// T.30 over G.711, or switches to T.38 by re-INVITE after the answer, as a FAX gateway does. It can
// hang up after a given page, to make a partial reception on purpose.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { access } from 'node:fs/promises';
import Srf from 'drachtio-srf';
import pino, { type Logger } from 'pino';
import { Pacer } from '../media/pacer.ts';
import { negotiate } from '../media/sdp.ts';
import { BuiltinFaxSession } from '../media/fax/session.ts';
import { readFaxTiff } from '../media/fax/pdf.ts';
import { loadSpandsp } from '../media/fax/spandsp.ts';
import { offerG711, offerT38 } from '../media/fax/t38-sdp.ts';
import { startEngine } from '../sip-engine/index.ts';

export interface SendFaxOptions {
  /** The called number (Request-URI user). */
  to: string;
  /** Where the call goes (the service's SIP address). */
  via: { host: string; port: number };
  /** The caller's number (From); unset: anonymous. */
  from?: string;
  /** TIFF/F file to send (G3/G4, 1728 pixels wide, FAX resolution). */
  file: string;
  /** After the answer, re-INVITE to T.38 (UDPTL) and send on T.38. */
  t38?: boolean;
  /** Hang up (BYE) as soon as this many pages are sent. */
  hangupAfterPage?: number;
  /** Told each time a page is confirmed, with the pages sent so far. */
  onPage?(pagesSent: number): void;
  law?: 'ulaw' | 'alaw';
  /** Our station identity (TSI). */
  ident?: string;
  /** Local address for SIP and media. */
  localHost?: string;
  /** Give up after this long. */
  timeoutMs?: number;
  spandspLibrary?: string;
  logger?: Logger;
}

export interface SendFaxResult {
  /** The SIP final status of the INVITE (200 when answered). */
  sipStatus: number;
  /** Pages the receiver confirmed. */
  pagesSent: number;
  /** T.30 completion code and text (0 = OK); undefined when the call was not answered. */
  t30Code?: number;
  t30Text?: string;
  transport: 'g711' | 't38';
  /** The G.711 law the answer chose (undefined when not answered). */
  law?: 'ulaw' | 'alaw';
  /** We hung up after hangupAfterPage pages. */
  hungUp: boolean;
}

/** The file cannot be sent (missing, not a TIFF/F FAX document); the message names it and why. */
export class FaxFileError extends Error {
  override name = 'FaxFileError';
}

/** Checks the document before a call is made: readable, and pages libtiff can decode. */
export async function checkFaxFile(file: string): Promise<number> {
  try {
    await access(file);
  } catch (err) {
    throw new FaxFileError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let pages;
  try {
    pages = readFaxTiff(file);
  } catch (err) {
    throw new FaxFileError(`${file}: not a TIFF file (${(err as Error).message})`);
  }
  if (pages.length === 0) throw new FaxFileError(`${file}: no page libtiff can read`);
  const odd = pages.find((p) => ![1728, 2048, 2432].includes(p.width));
  if (odd) throw new FaxFileError(`${file}: pages must be 1728, 2048 or 2432 pixels wide (FAX widths), found ${odd.width}`);
  return pages.length;
}

export async function sendFax(opts: SendFaxOptions): Promise<SendFaxResult> {
  const log = opts.logger ?? pino({ level: 'silent' });
  await checkFaxFile(opts.file);
  const spandsp = loadSpandsp(opts.spandspLibrary);
  const host = opts.localHost ?? '127.0.0.1';
  const secret = randomBytes(16).toString('hex');
  const engine = await startEngine({ sip: { host, port: 0 }, admin: { host, port: 0 }, secret, logger: log });
  const srf = new Srf();
  const socket = dgram.createSocket('udp4');
  const pacer = new Pacer();
  try {
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host, port: engine.adminAddress.port, secret });
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    });
    await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
    const local = { address: host, port: socket.address().port };
    let dialog: Srf.Dialog;
    try {
      dialog = await srf.createUAC(`sip:${opts.to}@${opts.via.host}:${opts.via.port}`, {
        localSdp: offerG711(local, opts.law),
        headers: { From: opts.from ? `<sip:${opts.from}@${host}>` : '"Anonymous" <sip:anonymous@anonymous.invalid>', 'User-Agent': 'chakushin-fax-sender' },
      });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (typeof status === 'number') return { sipStatus: status, pagesSent: 0, transport: 'g711', hungUp: false };
      throw err;
    }
    const media = negotiate(dialog.remote.sdp);
    let pagesSent = 0;
    let hungUp = false;
    /** Our BYE, answered (or failed): the engine must not close before it is out. */
    let bye: Promise<void> | undefined;
    const session: BuiltinFaxSession = new BuiltinFaxSession({
      spandsp, socket, pacer, host, remote: media.remote, codec: media.codec, calling: true, txFile: opts.file, workDir: '.',
      ident: opts.ident ?? opts.from ?? '', noFaxTimeoutMs: 0, maxDurationMs: opts.timeoutMs ?? 300_000, title: 'sent',
      onPage: (s) => {
        pagesSent = Math.max(pagesSent, s.pagesTx);
        const told = pagesSent;
        if (opts.onPage) setImmediate(() => opts.onPage!(told));
        if (opts.hangupAfterPage !== undefined && pagesSent >= opts.hangupAfterPage && !hungUp) {
          hungUp = true;
          log.info({ pagesSent }, 'hanging up after page');
          // Not from inside spandsp's callback: the terminal is freed by close().
          setImmediate(() => {
            bye = Promise.resolve(dialog.destroy() as unknown).then(() => undefined, () => undefined);
            void session.close();
          });
        }
      },
      onClose: () => undefined,
    });
    dialog.on('destroy', () => void session.close());
    if (opts.t38) {
      // As a gateway that has recognised the FAX: switch the call to T.38 once it is up.
      await new Promise((r) => setTimeout(r, 300));
      const answer = await dialog.modify(offerT38(local));
      session.startT38(answer as unknown as string);
    }
    const done = await session.done;
    bye ??= Promise.resolve(dialog.destroy() as unknown).then(() => undefined, () => undefined);
    await bye;
    return { sipStatus: 200, pagesSent, t30Code: done.t30Code, t30Text: done.t30Reason, transport: done.transport, law: media.codec.law, hungUp };
  } finally {
    srf.disconnect();
    await new Promise<void>((r) => socket.close(() => r())).catch(() => undefined);
    await engine.close();
  }
}
