// One T.30 FAX terminal of spandsp, either over audio (G.711 samples in and out, 20 ms at a time)
// or over T.38 (IFP packets in and out; the UDPTL framing around them is udptl.ts). The same
// class serves the receiver (the service) and the sender (the test CLI). The T.30 session and its
// TIFF file are spandsp's; this class keeps the C callbacks registered while the terminal lives,
// turns them into plain events, and frees everything exactly once.
import { T30_ERR_CALLDROPPED, T30_SUPPORT_V17, T30_SUPPORT_V27TER, T30_SUPPORT_V29, T38_PACKET_CATEGORY, type Spandsp, type T30Stats } from './spandsp.ts';

export const SAMPLES_PER_FRAME = 160;

export interface FaxTerminalEvents {
  /** Phase B: the far end identified itself (DIS/DCS exchanged): it is a FAX. */
  onPhaseB?(): void;
  /** Phase D: a page ended (received or sent). */
  onPage?(stats: T30Stats): void;
  /** Phase E: the T.30 session is over; code 0 is success. */
  onDone(code: number, text: string): void;
}

export interface FaxTerminalOptions extends FaxTerminalEvents {
  spandsp: Spandsp;
  calling: boolean;
  /** Receiver: TIFF file spandsp writes the pages to. */
  rxFile?: string;
  /** Sender: TIFF file to send. */
  txFile?: string;
  /** Our station identity (CSI/TSI), up to 20 characters. */
  ident?: string;
  ecm?: boolean;
}

export interface FaxOutcome {
  code: number;
  text: string;
  stats: T30Stats;
  remoteIdent: string;
}

abstract class Terminal {
  protected readonly sp: Spandsp;
  protected t30: unknown;
  private readonly callbacks: bigint[] = [];
  private outcome: FaxOutcome | undefined;
  private phaseB = false;
  protected freed = false;

  constructor(protected readonly opts: FaxTerminalOptions) {
    this.sp = opts.spandsp;
  }

  /** Set up the T.30 side (files, ident, handlers) once the engine state exists. */
  protected configure(t30: unknown): void {
    this.t30 = t30;
    const { sp, opts } = this;
    if (opts.rxFile) sp.t30SetRxFile(t30, opts.rxFile, -1);
    if (opts.txFile) sp.t30SetTxFile(t30, opts.txFile, -1, -1);
    sp.t30SetTxIdent(t30, (opts.ident ?? '').slice(0, 20));
    sp.t30SetEcm(t30, opts.ecm ?? true);
    sp.t30SetSupportedModems(t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29 | T30_SUPPORT_V17);
    sp.t30SetPhaseBHandler(t30, this.register('phaseB', () => {
      if (!this.phaseB) {
        this.phaseB = true;
        this.safely(() => opts.onPhaseB?.());
      }
      return 0;
    }));
    sp.t30SetPhaseDHandler(t30, this.register('phaseD', () => {
      const stats = sp.t30Stats(t30);
      this.safely(() => opts.onPage?.(stats));
      return 0;
    }));
    sp.t30SetPhaseEHandler(t30, this.register('phaseE', (_s: never, _u: never, code: number) => {
      this.finish(code);
    }));
  }

  /** The far end reached phase B (it is a FAX machine). */
  get identified(): boolean {
    return this.phaseB;
  }

  get result(): FaxOutcome | undefined {
    return this.outcome;
  }

  /** Ends the T.30 session (call dropped): phase E runs now if it has not yet. */
  terminate(): FaxOutcome {
    if (!this.outcome && !this.freed) this.sp.t30Terminate(this.t30);
    // t30_terminate runs phase E synchronously for a session in progress; a session that never
    // started has none, so the outcome is made here.
    return this.outcome ?? this.finish(-1);
  }

  /** Frees the C state and the callback slots. Idempotent; the outcome stays readable. */
  free(): void {
    if (this.freed) return;
    this.terminate();
    this.freed = true;
    this.release();
    for (const h of this.callbacks) this.sp.unregister(h);
    this.callbacks.length = 0;
  }

  protected abstract release(): void;

  protected register(kind: Parameters<Spandsp['register']>[0], fn: (...args: never[]) => unknown): bigint {
    const h = this.sp.register(kind, fn);
    this.callbacks.push(h);
    return h;
  }

  private finish(code: number): FaxOutcome {
    if (this.outcome) return this.outcome;
    const stats = this.sp.t30Stats(this.t30);
    this.outcome = {
      code: code < 0 ? T30_ERR_CALLDROPPED : code,
      text: code < 0 ? 'The call dropped prematurely' : this.sp.completionText(code),
      stats,
      remoteIdent: this.sp.t30GetRxIdent(this.t30).trim(),
    };
    const o = this.outcome;
    this.safely(() => this.opts.onDone(o.code, o.text));
    return o;
  }

  /** A throwing listener must not unwind through C. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

/** T.30 over audio: 8 kHz linear samples in and out. */
export class AudioFaxTerminal extends Terminal {
  private readonly state: unknown;

  constructor(opts: FaxTerminalOptions) {
    super(opts);
    this.state = this.sp.faxInit(opts.calling);
    this.sp.faxSetTransmitOnIdle(this.state, true);
    this.configure(this.sp.faxGetT30(this.state));
  }

  /** The far end's audio, one frame. */
  receive(samples: Int16Array): void {
    if (!this.freed) this.sp.faxRx(this.state, samples);
  }

  /** Frames the far end never sent (lost packets): spandsp keeps its timing. */
  fillIn(samples: number): void {
    if (!this.freed) this.sp.faxRxFillin(this.state, samples);
  }

  /** Our audio for the next frame into `out` (silence when idle). */
  transmit(out: Int16Array): void {
    if (this.freed) {
      out.fill(0);
      return;
    }
    const n = this.sp.faxTx(this.state, out);
    if (n < out.length) out.fill(0, n);
  }

  protected release(): void {
    this.sp.faxFree(this.state);
  }
}

/** T.30 over T.38: IFP packets in and out; `send` puts one IFP packet on the wire (UDPTL). */
export class T38FaxTerminal extends Terminal {
  private readonly state: unknown;
  private readonly core: unknown;

  constructor(opts: FaxTerminalOptions & { send(ifp: Buffer): void; maxDatagram?: number; rateManagement?: 'localTCF' | 'transferredTCF' }) {
    super(opts);
    const tx = this.register('t38Tx', (_s: never, _u: never, buf: unknown, len: number) => {
      // spandsp's "count" asks for repeats of indicator packets; UDPTL redundancy (udptl.ts)
      // already carries each packet in the next ones, so it is sent once.
      if (len > 0) opts.send(this.sp.bytes(buf, len));
      return 0;
    });
    this.state = this.sp.t38Init(opts.calling, tx);
    this.core = this.sp.t38GetCore(this.state);
    this.sp.t38SetVersion(this.core, 0);
    this.sp.t38SetMaxDatagramSize(this.core, opts.maxDatagram ?? 400);
    this.sp.t38SetRateManagement(this.core, opts.rateManagement === 'localTCF' ? 1 : 2);
    // Our UDPTL carries the previous packets as redundancy, so each IFP goes out once.
    for (const c of Object.values(T38_PACKET_CATEGORY)) this.sp.t38SetRedundancyControl(this.core, c, 1);
    this.configure(this.sp.t38GetT30(this.state));
  }

  /** One IFP packet from the far end, with its UDPTL sequence number. */
  receive(ifp: Uint8Array, seq: number): void {
    if (!this.freed) this.sp.t38RxIfp(this.core, ifp, seq & 0xffff);
  }

  /** Advances spandsp's clock by one 20 ms frame (it sends what is due through `send`). */
  tick(samples = SAMPLES_PER_FRAME): void {
    if (!this.freed) this.sp.t38SendTimeout(this.state, samples);
  }

  protected release(): void {
    this.sp.t38Free(this.state);
  }
}
