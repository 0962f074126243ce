// RFC 3261 §17 transactions. Timers use the global setTimeout so tests can drive them with fake timers.
// On TCP the retransmission timers are off and the "wait for strays" timers (D, I, J, K) are zero.
import { randomUUID } from 'node:crypto';
import { getHeader, getHeaders, parseCSeq, serialize, type SipRequest, type SipResponse } from './message.ts';
import type { Peer } from './transport.ts';

/** RFC 3261 timer base values in ms (T1 500, T2 4000, T4 5000); tests may shrink them. */
export interface SipTimers { t1: number; t2: number; t4: number }
export const DEFAULT_TIMERS: SipTimers = { t1: 500, t2: 4000, t4: 5000 };

export interface TxnHost {
  timers: SipTimers;
  send(peer: Peer, buf: Buffer): void;
  absorbed(): void;
}

type Timer = ReturnType<typeof setTimeout>;

const TIMER_C_MS = 180_000;

abstract class Transaction {
  readonly id = randomUUID();
  readonly method: string;
  terminated = false;
  private timers = new Set<Timer>();
  private onDone: (() => void)[] = [];
  private onFinal?: () => void;
  /** Only needed until the final response; dropped then so a retained transaction stays small. */
  private req?: SipRequest;

  constructor(readonly key: string, protected readonly host: TxnHost, public peer: Peer, request: SipRequest) {
    this.method = request.method;
    this.req = request;
  }

  get request(): SipRequest {
    if (!this.req) throw new Error(`${this.method} transaction ${this.id}: request already released after the final response`);
    return this.req;
  }

  get isInvite(): boolean {
    return this.method === 'INVITE';
  }

  get reliable(): boolean {
    return this.peer.protocol !== 'udp';
  }

  protected timer(ms: number, fn: () => void): Timer {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.terminated) fn(); }, ms);
    this.timers.add(t);
    return t;
  }

  protected clear(t: Timer | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  whenTerminated(fn: () => void): void {
    this.onDone.push(fn);
  }

  /** Called once, when the transaction has its final response: what the TU tied to it can go. */
  whenFinal(fn: () => void): void {
    this.onFinal = fn;
  }

  /** The final response is in: keep only what absorbing retransmissions needs. */
  protected settled(): void {
    this.req = undefined;
    const fn = this.onFinal;
    this.onFinal = undefined;
    fn?.();
  }

  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.req = undefined;
    this.onFinal = undefined;
    const done = this.onDone;
    this.onDone = [];
    for (const fn of done) fn();
  }
}

/** Branch (with magic cookie) plus sent-by identifies a server transaction (§17.2.3); ACK/CANCEL map onto INVITE's. */
export function serverKey(req: SipRequest): string | undefined {
  const via = getHeaders(req, 'via')[0];
  if (!via) return undefined;
  const branch = /;\s*branch=([^;,\s]+)/i.exec(via)?.[1];
  const sentBy = /^SIP\s*\/\s*2\.0\s*\/\s*\S+\s+([^;\s]+)/i.exec(via)?.[1] ?? '';
  const method = req.method === 'ACK' ? 'INVITE' : req.method;
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${method}`;
  // RFC 2543 peers: fall back to dialog identifiers plus CSeq number.
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  return `${getHeader(req, 'call-id')}|${getHeader(req, 'from')}|${cseq?.seq}|${sentBy}|${method}`;
}

export function clientKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

export class ServerTransaction extends Transaction {
  state: 'proceeding' | 'completed' | 'confirmed' | 'accepted' = 'proceeding';
  lastResponse?: Buffer;
  lastStatus = 0;
  /** The To tag this transaction answers with, chosen once so every response carries the same one. */
  toTag?: string;

  /**
   * Sends a response from the TU. After a 2xx to INVITE the dialog layer retransmits the 2xx;
   * the transaction stays "accepted" (RFC 6026 §7.1) for 64·T1 so that INVITE retransmissions
   * crossing the 2xx are absorbed instead of starting a second call.
   */
  respond(res: SipResponse): Buffer {
    const buf = serialize(res);
    this.lastResponse = buf;
    this.lastStatus = res.status;
    this.host.send(this.peer, buf);
    if (res.status < 200) return buf;
    this.settled();
    if (this.isInvite) {
      if (res.status < 300) {
        this.state = 'accepted';
        this.timer(64 * this.host.timers.t1, () => this.terminate()); // timer L
        return buf;
      }
      this.state = 'completed';
      if (!this.reliable) this.retransmitG(this.host.timers.t1);
      this.timer(64 * this.host.timers.t1, () => this.terminate()); // timer H: ACK never came
    } else {
      this.state = 'completed';
      this.timer(this.reliable ? 0 : 64 * this.host.timers.t1, () => this.terminate()); // timer J
    }
    return buf;
  }

  private retransmitG(interval: number): void {
    this.timer(interval, () => {
      if (this.state !== 'completed' || !this.lastResponse) return;
      this.host.send(this.peer, this.lastResponse);
      this.retransmitG(Math.min(interval * 2, this.host.timers.t2));
    });
  }

  /** The same request again: answer with the last response, if any. */
  retransmission(): void {
    this.host.absorbed();
    if (this.lastResponse) this.host.send(this.peer, this.lastResponse);
  }

  /** ACK for a non-2xx final response. */
  ack(): void {
    if (this.state !== 'completed') {
      this.host.absorbed();
      return;
    }
    this.state = 'confirmed';
    this.timer(this.reliable ? 0 : this.host.timers.t4, () => this.terminate()); // timer I
  }
}

export interface ClientTu {
  response(res: SipResponse, txn: ClientTransaction): void;
  timeout(txn: ClientTransaction): void;
}

export class ClientTransaction extends Transaction {
  state: 'calling' | 'proceeding' | 'completed' = 'calling';
  private timerA?: Timer;
  private timerB?: Timer;
  private ackBuf?: Buffer;
  finalStatus = 0;

  constructor(key: string, host: TxnHost, peer: Peer, request: SipRequest, private readonly tu: ClientTu) {
    super(key, host, peer, request);
  }

  start(): Buffer {
    const buf = serialize(this.request);
    this.host.send(this.peer, buf);
    if (!this.reliable) this.retransmit(buf, this.host.timers.t1);
    this.timerB = this.timer(64 * this.host.timers.t1, () => this.timeout()); // timer B / F
    return buf;
  }

  private timeout(): void {
    this.tu.timeout(this);
    this.terminate();
  }

  private retransmit(buf: Buffer, interval: number): void {
    this.timerA = this.timer(interval, () => {
      if (this.state === 'completed') return;
      // INVITE keeps doubling (timer A); non-INVITE caps at T2, and at T2 straight away once proceeding (timer E).
      if (!this.isInvite && this.state === 'proceeding') interval = this.host.timers.t2;
      if (this.isInvite && this.state === 'proceeding') return;
      this.host.send(this.peer, buf);
      this.retransmit(buf, this.isInvite ? interval * 2 : Math.min(interval * 2, this.host.timers.t2));
    });
  }

  receive(res: SipResponse): void {
    if (this.state === 'completed') {
      // Retransmitted final response: re-ACK non-2xx INVITE failures, otherwise absorb.
      this.host.absorbed();
      if (this.ackBuf && res.status >= 300) this.host.send(this.peer, this.ackBuf);
      return;
    }
    if (res.status < 200) {
      if (this.state === 'calling') {
        this.state = 'proceeding';
        if (this.isInvite) {
          // A ringing INVITE waits for the callee, not for timer B; timer C (3 min) bounds it instead.
          this.clear(this.timerA);
          this.clear(this.timerB);
          this.timer(TIMER_C_MS, () => this.timeout());
        }
      }
      this.tu.response(res, this);
      return;
    }
    this.finalStatus = res.status;
    this.clear(this.timerA);
    // Timer B/F only guard against no final response; left running it would report a timeout after D.
    this.clear(this.timerB);
    if (this.isInvite && res.status >= 300) {
      this.ackBuf = serialize(this.buildAck(res));
      this.host.send(this.peer, this.ackBuf);
    }
    this.tu.response(res, this);
    this.settled();
    if (this.isInvite && res.status < 300) {
      this.terminate(); // 2xx retransmissions are matched to the dialog by the core
      return;
    }
    this.state = 'completed';
    this.timer(this.reliable ? 0 : this.isInvite ? 64 * this.host.timers.t1 : this.host.timers.t4, () => this.terminate()); // timer D / K
  }

  /** §17.1.1.3: ACK for a non-2xx response belongs to the INVITE transaction. */
  private buildAck(res: SipResponse): SipRequest {
    const req = this.request;
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
    const headers = [
      { key: 'via', value: getHeaders(req, 'via')[0] ?? '' },
      ...req.headers.filter((h) => h.key === 'route'),
      { key: 'max-forwards', value: '70' },
      { key: 'from', value: getHeader(req, 'from') ?? '' },
      { key: 'to', value: getHeader(res, 'to') ?? '' },
      { key: 'call-id', value: getHeader(req, 'call-id') ?? '' },
      { key: 'cseq', value: `${cseq?.seq ?? 1} ACK` },
    ];
    return { kind: 'request', method: 'ACK', uri: req.uri, headers, body: Buffer.alloc(0) };
  }
}
