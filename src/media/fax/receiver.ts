// The built-in endpoint's FAX receiver: a BuiltinFaxSession per call behind the FaxSession port.
import type dgram from 'node:dgram';
import type { Pacer } from '../pacer.ts';
import { FaxUnavailableError, UnsupportedMediaError, type FaxReceiveOptions, type FaxSession } from '../port.ts';
import type { Negotiated } from '../sdp.ts';
import { BuiltinFaxSession } from './session.ts';
import { loadSpandsp, SpandspMissingError } from './spandsp.ts';
import { isT38Offer } from './t38-sdp.ts';

export interface BuiltinFaxOptions {
  /** Folder for TIFF files while pages come in (deleted once the PDF is made). */
  workDir: string;
  /** dlopen name or path of libspandsp (Debian: libspandsp.so.2). */
  spandspLibrary?: string;
}

/**
 * Whether FAX can be received here: undefined when it can, else the one line saying what to
 * install. Loads the library once (the service asks at start, to say it then).
 */
export function builtinFaxUnavailable(opts: BuiltinFaxOptions): string | undefined {
  try {
    loadSpandsp(opts.spandspLibrary);
    return undefined;
  } catch (err) {
    if (err instanceof SpandspMissingError) return err.message;
    throw err;
  }
}

export function openBuiltinFax(
  opts: BuiltinFaxOptions,
  call: FaxReceiveOptions & { socket: dgram.Socket; pacer: Pacer; host: string; media: Negotiated; onClose(): void },
): FaxSession {
  let spandsp;
  try {
    spandsp = loadSpandsp(opts.spandspLibrary);
  } catch (err) {
    if (err instanceof SpandspMissingError) throw new FaxUnavailableError(err.message);
    throw err;
  }
  const session = new BuiltinFaxSession({
    spandsp, socket: call.socket, pacer: call.pacer, host: call.host,
    remote: call.media.remote, codec: call.media.codec, calling: false, workDir: opts.workDir, ident: call.ident,
    noFaxTimeoutMs: call.noFaxTimeoutMs, maxDurationMs: call.maxDurationMs, title: `FAX ${call.callId}`, onClose: call.onClose,
  });
  const localSdp = call.media.answer({ address: call.host, port: session.localPort });
  return {
    localSdp,
    done: session.done,
    async modify(offerSdp) {
      if (isT38Offer(offerSdp)) return session.acceptT38(offerSdp);
      // An audio re-offer while on audio (a session refresh, RFC 4028): nothing changes, the same answer.
      if (session.transport === 'g711') return localSdp;
      throw new UnsupportedMediaError('305 chakushin "a FAX call on T.38 stays on T.38"');
    },
    async close() {
      await session.close();
    },
  };
}
