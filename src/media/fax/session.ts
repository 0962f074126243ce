// One FAX call on the built-in endpoint: a spandsp T.30 terminal on an RTP (G.711) stream, switched
// to spandsp's T.38 terminal over UDPTL when the peer re-INVITEs to T.38. Both directions keep the
// 20 ms rhythm of the shared pacer: each tick sends one G.711 frame from fax_tx (or advances the T.38
// terminal's clock by 20 ms), and each RTP packet that arrives is fed to fax_rx as it comes. The same
// class is the receiver (the service) and the sender (the test CLI, `calling`). Pages go to one TIFF
// file per terminal; at the end they are read back, in order, into one PDF.
import { randomInt, randomUUID } from 'node:crypto';
import type dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { decodeG711, encodeG711, type G711Law } from '../g711.ts';
import type { Pacer, PacedStream } from '../pacer.ts';
import type { FaxReception, FaxResult } from '../port.ts';
import { buildRtp, parseRtp } from '../rtp.ts';
import { faxPagesToPdf, readFaxTiff } from './pdf.ts';
import { T30_ERR_OK, T30_ERR_T1_EXPIRED, type Spandsp, type T30Stats } from './spandsp.ts';
import { answerT38, parseT38Offer, type T38Offer } from './t38-sdp.ts';
import { AudioFaxTerminal, SAMPLES_PER_FRAME, T38FaxTerminal, type FaxOutcome } from './terminal.ts';
import { UdptlReceiver, UdptlSender } from './udptl.ts';

/** How long the stream runs on after T.30's phase E, so its last signal is sent whole. */
const TAIL_MS = 500;
/**
 * Time without RTP before spandsp is fed fill-in to keep its clock: far beyond jitter and event-loop
 * delays (whose packets are still queued and will be fed), so only a peer that stopped sending
 * (silence suppression, gone) is filled in.
 */
const QUIET_MS = 1000;

export interface FaxSessionDeps {
  spandsp: Spandsp;
  socket: dgram.Socket;
  pacer: Pacer;
  /** Our address as advertised in SDP. */
  host: string;
  /** Where the caller's audio goes (from the negotiated SDP) and how it is coded. */
  remote: { address: string; port: number };
  codec: { payloadType: number; law: G711Law };
  calling: boolean;
  /** Sender: the TIFF to send. */
  txFile?: string;
  /** Receiver: folder for the TIFF files being received. */
  workDir: string;
  ident: string;
  /** Receiver: no T.30 phase B by then → failed; 0 = never. */
  noFaxTimeoutMs: number;
  maxDurationMs: number;
  title: string;
  /** Called for each page done (sender: sent; receiver: received). */
  onPage?(stats: T30Stats): void;
  onClose(): void;
}

interface Leg {
  terminal: AudioFaxTerminal | T38FaxTerminal;
  file?: string;
}

export class BuiltinFaxSession implements PacedStream {
  readonly done: Promise<FaxReception>;
  private settle!: (r: FaxReception) => void;
  private readonly legs: Leg[] = [];
  private mode: 'g711' | 't38' = 'g711';
  private remote: { address: string; port: number };
  private latched = false;
  private readonly pcm = new Int16Array(SAMPLES_PER_FRAME);
  private readonly rxScratch = new Int16Array(SAMPLES_PER_FRAME * 4);
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private sequence = randomInt(0, 65536);
  private timestamp = randomInt(0, 2 ** 32 - 1);
  private marker = true;
  private lastRxSeq: number | undefined;
  private udptlOut?: UdptlSender;
  private udptlIn?: UdptlReceiver;
  private readonly timers: NodeJS.Timeout[] = [];
  private ending = false;
  private tail: NodeJS.Timeout | undefined;
  /** When the last RTP packet came: a peer that goes quiet (silence suppression, gone) still lets T.30's timers run. */
  private lastRxAt = performance.now();
  private failure: { code?: number; reason: string } | undefined;

  constructor(private readonly deps: FaxSessionDeps) {
    this.remote = deps.remote;
    this.done = new Promise((r) => (this.settle = r));
    this.legs.push(this.audioLeg());
    deps.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    deps.socket.on('error', () => undefined);
    if (deps.noFaxTimeoutMs > 0) {
      this.timers.push(setTimeout(() => {
        if (!this.current.terminal.identified) this.fail(T30_ERR_T1_EXPIRED, `no FAX answered within ${Math.round(deps.noFaxTimeoutMs / 1000)} s (T.30 T1): the caller is not a FAX`);
      }, deps.noFaxTimeoutMs));
    }
    this.timers.push(setTimeout(() => this.fail(undefined, `reception longer than ${Math.round(deps.maxDurationMs / 1000)} s: ended`), deps.maxDurationMs));
    deps.pacer.add(this);
  }

  get localPort(): number {
    return this.deps.socket.address().port;
  }

  get transport(): 'g711' | 't38' {
    return this.mode;
  }

  private get current(): Leg {
    return this.legs[this.legs.length - 1]!;
  }

  private newFile(): string | undefined {
    return this.deps.calling ? undefined : path.join(this.deps.workDir, `fax-${randomUUID()}.tif`);
  }

  private audioLeg(): Leg {
    const file = this.newFile();
    return {
      file,
      terminal: new AudioFaxTerminal({
        spandsp: this.deps.spandsp, calling: this.deps.calling, rxFile: file, txFile: this.deps.txFile, ident: this.deps.ident,
        onPage: (s) => this.deps.onPage?.(s),
        onDone: () => this.terminalDone(),
      }),
    };
  }

  /**
   * The peer's T.38 offer (its re-INVITE): answers it on the same port and moves the T.30 session to
   * spandsp's T.38 terminal. Pages already received on audio are kept (they are in the first file).
   */
  acceptT38(offerSdp: string): string {
    const offer = parseT38Offer(offerSdp);
    this.switchToT38(offer);
    return answerT38(offer, { address: this.deps.host, port: this.localPort });
  }

  /** Sender: our T.38 offer was answered; continue on T.38 toward the answer's address. */
  startT38(answerSdp: string): void {
    this.switchToT38(parseT38Offer(answerSdp));
  }

  private switchToT38(offer: T38Offer): void {
    if (this.ending || this.mode === 't38') return;
    const old = this.current.terminal;
    this.mode = 't38';
    this.remote = offer.remote;
    this.latched = false;
    this.udptlOut = new UdptlSender();
    this.udptlIn = new UdptlReceiver();
    const file = this.newFile();
    this.legs.push({
      file,
      terminal: new T38FaxTerminal({
        spandsp: this.deps.spandsp, calling: this.deps.calling, rxFile: file, txFile: this.deps.txFile, ident: this.deps.ident,
        maxDatagram: offer.maxDatagram, rateManagement: offer.rateManagement,
        send: (ifp) => this.sendIfp(ifp),
        onPage: (s) => this.deps.onPage?.(s),
        onDone: () => this.terminalDone(),
      }),
    });
    // The audio terminal's phase E (call dropped for it) is not the session's end.
    old.free();
  }

  /** The call is over (BYE either way): stop T.30 and deliver what came. Idempotent. */
  close(): Promise<FaxReception> {
    void this.end();
    return this.done;
  }

  private terminalDone(): void {
    // Phase E of the terminal in use: the T.30 session is over; hang-up follows from the app. (The
    // audio terminal freed at a T.38 switch reports its phase E too, when it is no longer current.)
    // The last signal (MCF, DCN) may still be on its way out: keep the stream going a moment.
    if (this.current.terminal.result && !this.tail) this.tail = setTimeout(() => void this.end(), TAIL_MS);
  }

  private fail(code: number | undefined, reason: string): void {
    if (this.ending) return;
    this.failure = { code, reason };
    void this.end();
  }

  private async end(): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.tail);
    this.deps.pacer.delete(this);
    this.deps.socket.removeAllListeners('message');
    const outcomes: FaxOutcome[] = [];
    for (const leg of this.legs) {
      leg.terminal.free();
      if (leg.terminal.result) outcomes.push(leg.terminal.result);
    }
    await new Promise<void>((resolve) => this.deps.socket.close(() => resolve()));
    this.deps.onClose();
    this.settle(await this.reception(outcomes[outcomes.length - 1]!));
  }

  private async reception(last: FaxOutcome): Promise<FaxReception> {
    const files = this.legs.map((l) => l.file).filter((f): f is string => !!f);
    let pages: ReturnType<typeof readFaxTiff> = [];
    const unreadable: string[] = [];
    for (const f of files) {
      // spandsp creates a leg's file with its first page: none, no pages on that leg.
      if (!existsSync(f)) continue;
      try {
        pages = pages.concat(readFaxTiff(f));
      } catch {
        unreadable.push(f); // damaged: kept for an operator, named in the reason below
      }
    }
    await Promise.all(files.filter((f) => !unreadable.includes(f)).map((f) => rm(f, { force: true })));
    const pdf = pages.length ? await faxPagesToPdf(pages, { title: this.deps.title, created: new Date() }) : null;
    const code = this.failure?.code ?? last.code;
    const ok = !this.failure && code === T30_ERR_OK;
    const result: FaxResult = pages.length === 0 ? 'failed' : ok ? 'complete' : 'partial';
    const first = pages[0];
    return {
      result,
      pages: pages.length,
      remoteIdent: this.legs.map((l) => l.terminal.result?.remoteIdent ?? '').filter(Boolean).pop() ?? '',
      resolution: first ? `${first.xDpi}x${first.yDpi}` : null,
      t30Code: code,
      t30Reason: (this.failure?.reason ?? last.text) + (unreadable.length ? ` (received file unreadable, kept: ${unreadable.join(', ')})` : ''),
      transport: this.mode,
      pdf,
    };
  }

  sendFrame(skipped: number): void {
    const t = this.current.terminal;
    if (t instanceof T38FaxTerminal) {
      t.tick(SAMPLES_PER_FRAME * (1 + skipped));
      return;
    }
    // T.30's timers run on received samples: when the peer sends nothing (silence suppression, a
    // dead peer), the missing audio is filled in once it has been quiet for QUIET_MS, so T2/T4 still expire.
    if (performance.now() - this.lastRxAt > QUIET_MS) t.fillIn(SAMPLES_PER_FRAME * (1 + skipped));
    this.timestamp = (this.timestamp + skipped * SAMPLES_PER_FRAME) >>> 0;
    t.transmit(this.pcm);
    const payload = encodeG711(this.deps.codec.law, this.pcm);
    const pkt = buildRtp({ marker: this.marker, payloadType: this.deps.codec.payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc }, payload);
    this.deps.socket.send(pkt, this.remote.port, this.remote.address);
    this.marker = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + SAMPLES_PER_FRAME) >>> 0;
  }

  private sendIfp(ifp: Buffer): void {
    if (!this.udptlOut) return;
    this.deps.socket.send(this.udptlOut.packet(ifp), this.remote.port, this.remote.address);
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (rinfo.port === 0) return;
    // Symmetric: the first good packet in each mode tells where the peer really is.
    if (this.latched && (rinfo.address !== this.remote.address || rinfo.port !== this.remote.port)) return;
    const t = this.current.terminal;
    if (t instanceof T38FaxTerminal) {
      if (this.looksLikeOurRtp(msg)) return; // audio still in flight from before the switch
      let ifps;
      try {
        ifps = this.udptlIn!.receive(msg);
      } catch {
        return; // not UDPTL
      }
      this.latch(rinfo);
      for (const p of ifps) t.receive(p.ifp, p.seq);
      return;
    }
    const pkt = parseRtp(msg);
    if (!pkt || pkt.payloadType !== this.deps.codec.payloadType || pkt.payload.length > this.rxScratch.length) return;
    this.latch(rinfo);
    // A gap in the sequence is audio that never came: spandsp fills it in and keeps its timing.
    if (this.lastRxSeq !== undefined) {
      const lost = ((pkt.sequence - this.lastRxSeq) & 0xffff) - 1;
      if (lost >= 0x8000 - 1) return; // late or repeated packet
      if (lost > 0 && lost <= 50) t.fillIn(lost * SAMPLES_PER_FRAME);
    }
    this.lastRxSeq = pkt.sequence;
    this.lastRxAt = performance.now();
    t.receive(decodeG711(this.deps.codec.law, pkt.payload, this.rxScratch.subarray(0, pkt.payload.length)));
  }

  private latch(rinfo: dgram.RemoteInfo): void {
    if (this.latched) return;
    this.latched = true;
    this.remote = { address: rinfo.address, port: rinfo.port };
  }

  private looksLikeOurRtp(msg: Buffer): boolean {
    return msg.length >= 12 && msg[0] === 0x80 && (msg[1]! & 0x7f) === this.deps.codec.payloadType && msg.length === 12 + SAMPLES_PER_FRAME;
  }
}
