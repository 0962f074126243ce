// The engine's SIP core: a router between the transport, the transactions, the dialogs and the app
// link, with the header policy drachtio-server applies. An exception while handling one message or
// one transaction ends that transaction (a final response to the peer, word to the app), is logged
// with its Call-ID and counted (sip_engine_faults_total); it never reaches the process.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TrustedPeerMatcher } from '../domain/trusted-peers.ts';
import { AppCommands, meta, toApp } from './app-commands.ts';
import { AppLink, type AppConnection } from './app-link.ts';
import { Dialogs, type Dialog } from './dialog.ts';
import { LocalAddress } from './local-address.ts';
import {
  cseqOf, getHeader, getHeaders, KNOWN_METHODS, messageText, parseMessage, parseVia,
  serialize, SipParseError, tagOf, topBranch, type Header, type SipMessage, type SipRequest, type SipResponse,
} from './message.ts';
import type { EngineLimits } from './limits.ts';
import { countRejected, newCounters, type EngineCounters } from './metrics.ts';
import { buildResponse, responsePeer, stampVia } from './responses.ts';
import { TransactionTable, type ClientEntry } from './transaction-table.ts';
import { clientKey, DEFAULT_TIMERS, InviteClientTransaction, InviteServerTransaction, serverKey, type ClientTu, type SipTimers, type Transaction } from './transactions.ts';
import { Transport, type Peer } from './transport.ts';
import { sipMessage } from './wire.ts';
import { overloadedResponse } from './stateless.ts';

const ALLOW = [...KNOWN_METHODS].join(', ');
/** An app that never answers a non-INVITE request must not pin the transaction forever (× T1). */
const APP_NON_INVITE_DEADLINE_FACTOR = 64;

export interface CoreOptions {
  secret: string;
  log: Logger;
  timers?: Partial<SipTimers>;
  limits: EngineLimits;
  /** Trunk peers: the TCP total cap does not count them (limits.ts). */
  isTrustedPeer?: TrustedPeerMatcher;
}

export class EngineCore {
  readonly transport: Transport;
  readonly apps: AppLink;
  readonly counters: EngineCounters;
  readonly dialogs: Dialogs;
  private readonly txns: TransactionTable;
  private readonly log: Logger;
  private readonly limits: EngineLimits;
  private readonly local = new LocalAddress();
  private readonly appCommands: AppCommands;

  constructor(opts: CoreOptions) {
    this.log = opts.log;
    this.limits = opts.limits;
    const counters = this.counters = newCounters({
      appConnections: () => this.apps.authenticatedCount,
      transactions: () => this.transactionCount,
      dialogs: () => this.dialogs.size,
    });
    const timers = { ...DEFAULT_TIMERS, ...opts.timers };
    const send = (peer: Peer, buf: Buffer) => this.send(peer, buf);
    this.txns = new TransactionTable({
      timers, send,
      absorbed: () => { counters.retransmissionsAbsorbed++; },
      illegal: (txn, from, to) => {
        counters.illegalTransitions++;
        this.log.error({ callId: txn.callId, method: txn.method, from, to }, 'illegal transaction transition ignored');
      },
      fault: (txn, where, err) => this.endFaulty(txn, where, err),
    }, {
      expired: (t) => { if (t.request) t.respond(buildResponse(t.request, 408, t)); },
    }, APP_NON_INVITE_DEADLINE_FACTOR * timers.t1);
    this.dialogs = new Dialogs({
      timers, send,
      via: (proto) => this.local.via(proto),
      startRequest: (req, peer) => { this.newClient(req, peer).txn.start(); },
      toApp: (d, req, source, peer) => {
        const raw = messageText(req);
        d.app.send(sipMessage(meta(source, raw.bytes, peer), source === 'network' ? randomUUID() : 'unsolicited', d.id, raw.text));
      },
      ackTimedOut: (d) => {
        counters.ackTimeouts++;
        this.log.info({ callId: d.callId, dialog: d.id }, 'no ACK for 2xx, sending BYE');
      },
      fault: (callId, where, err) => this.fault(callId, where, err),
    });
    this.appCommands = new AppCommands({
      txns: this.txns, dialogs: this.dialogs, local: this.local, log: this.log,
      newClient: (req, peer, app, dialog) => this.newClient(req, peer, app, dialog),
      fault: (callId, where, err) => this.fault(callId, where, err),
      contain: (callId, where, work) => this.contain(callId, where, work),
    });
    this.transport = new Transport({
      message: (buf, from) => this.receive(buf, from),
      streamError: (from, err) => {
        counters.parseErrors++;
        this.log.warn({ peer: `${from.address}:${from.port}`, err: err.message }, 'unframeable SIP stream, connection closed');
      },
    }, opts.limits, this.counters, opts.log, opts.isTrustedPeer);
    this.apps = new AppLink(opts.secret, {
      message: (app, msg) => this.appCommands.handle(app, msg),
      disconnected: (app) => this.contain('', 'app disconnect', () => this.appGone(app)),
      hostports: () => `udp/${this.local.hostport()},tcp/${this.local.hostport()}`,
    }, opts.log, opts.limits, this.counters);
  }

  async start(sip: { host: string; port: number }, admin: { host: string; port: number }): Promise<void> {
    await this.transport.listen(sip.host, sip.port);
    this.local.bind(sip.host, this.transport.port);
    await this.apps.listen(admin.host, admin.port);
  }

  async close(): Promise<void> {
    for (const e of this.txns.all()) e.txn.terminate();
    for (const d of this.dialogs.all()) this.dialogs.remove(d);
    await Promise.all([this.apps.close(), this.transport.close()]);
  }

  get transactionCount(): number {
    return this.txns.size;
  }

  // ───────────────────────────── containment ─────────────────────────────

  private fault(callId: string, where: string, err: unknown): void {
    this.counters.faults++;
    this.log.error({ callId, err }, `SIP engine fault in ${where}; that transaction or call is ended`);
  }

  /** Runs one unit of work; an exception is logged and counted and `cleanup` ends what it was doing. */
  private contain(callId: string, where: string, work: () => void, cleanup?: () => void): void {
    try {
      work();
    } catch (err) {
      this.fault(callId, where, err);
      try { cleanup?.(); } catch { /* the fault is already logged; ending the call is best effort */ }
    }
  }

  /** A transaction whose timer threw: the peer gets 500 (server), the app a 500 and the line a CANCEL (client). */
  private endFaulty(txn: Transaction, where: string, err: unknown): void {
    this.fault(txn.callId, where, err);
    this.contain(txn.callId, 'ending a faulty transaction', () => {
      const server = this.txns.server.byId.get(txn.id);
      if (server?.txn.request && server.txn.lastStatus < 200) server.txn.respond(buildResponse(server.txn.request, 500, server.txn));
      const client = this.txns.client.byId.get(txn.id);
      if (client && !client.txn.finalStatus) {
        if (client.txn instanceof InviteClientTransaction) client.txn.cancel();
        this.appCommands.localResponse(client, 500);
      }
    });
    txn.terminate();
  }

  // ───────────────────────────── network → engine ─────────────────────────────

  private send(peer: Peer, buf: Buffer): void {
    this.counters.messagesOut++;
    this.transport.send(peer, buf);
  }

  private receive(buf: Buffer, peer: Peer): void {
    this.counters.messagesIn++;
    let msg: SipMessage;
    try {
      msg = parseMessage(buf);
    } catch (err) {
      this.counters.parseErrors++;
      const partial = err instanceof SipParseError ? err.partial : undefined;
      this.log.warn({ peer: `${peer.address}:${peer.port}`, err: (err as Error).message }, 'malformed SIP message');
      // §21.4.1 / §21.5.6: answered 400 / 505 when there is a Via to answer to; anything else is dropped.
      if (partial?.kind === 'request' && partial.method !== 'ACK' && parseVia(getHeaders(partial, 'via')[0] ?? '')) {
        this.contain(getHeader(partial, 'call-id') ?? '', 'bad-request reply', () => this.statelessReply(partial, peer, (err as SipParseError).status));
      }
      return;
    }
    const callId = getHeader(msg, 'call-id') ?? '';
    if (msg.kind === 'response') return this.contain(callId, `${msg.status} response`, () => this.onResponse(msg));
    this.contain(callId, `${msg.method} request`, () => this.onRequest(msg, peer), () => this.failRequest(msg, peer));
  }

  /** The request's handling threw: whatever transaction it made gets a 500, else a stateless one. */
  private failRequest(req: SipRequest, peer: Peer): void {
    if (req.method === 'ACK') return;
    const e = this.txns.server.byKey.get(serverKey(req) ?? '');
    if (!e) return this.statelessReply(req, peer, 500);
    if (e.txn.request && e.txn.lastStatus < 200) e.txn.respond(buildResponse(e.txn.request, 500, e.txn));
  }

  private onRequest(req: SipRequest, peer: Peer): void {
    stampVia(req, peer);
    const key = serverKey(req);
    if (!key) return;
    if (req.method === 'ACK') return this.onAck(req, key);
    const existing = this.txns.server.byKey.get(key);
    if (existing) return existing.txn.retransmission();
    const rpeer = responsePeer(req, peer);
    if (req.method === 'CANCEL') return this.onCancel(req, rpeer, key);
    // A missing Max-Forwards passes (§16.3 step 3); one that is not a number never got here (parser: 400).
    const mf = getHeader(req, 'max-forwards');
    if (mf !== undefined && Number(mf) <= 0) return this.reject(req, rpeer, key, 483);
    if (!KNOWN_METHODS.has(req.method)) return this.reject(req, rpeer, key, 501, [{ key: 'allow', value: ALLOW }]);
    const toTag = tagOf(getHeader(req, 'to'));
    if (toTag) return this.onInDialog(req, rpeer, key, toTag);
    if (this.transactionCount >= this.limits.maxTransactions || this.transport.descriptorsLow) return this.overloaded(req, rpeer);
    const app = this.apps.pick(req.method);
    if (!app) return this.reject(req, rpeer, key, 503);
    const entry = this.txns.addServer(key, rpeer, req, app);
    if (req.method === 'INVITE') entry.txn.respond(buildResponse(req, 100, entry.txn));
    toApp(app, req, peer, entry.txn.id, '', { address: this.local.host, port: this.local.port });
  }

  private onAck(req: SipRequest, key: string): void {
    // Only an ACK for a failure belongs to the INVITE transaction; the ACK for a 2xx is the dialog's,
    // even when the peer reuses the INVITE's branch (or has none, RFC 2543).
    const txn = this.txns.server.byKey.get(key)?.txn;
    if (txn instanceof InviteServerTransaction && txn.ack()) return;
    const d = this.dialogs.find(getHeader(req, 'call-id') ?? '', tagOf(getHeader(req, 'to')) ?? '', tagOf(getHeader(req, 'from')) ?? '');
    if (d && this.dialogs.ack(req, d)) return;
    if (d) this.counters.retransmissionsAbsorbed++;
    else this.counters.dropped++;
  }

  private onCancel(req: SipRequest, rpeer: Peer, key: string): void {
    const inv = this.txns.server.byKey.get(key.replace(/\|CANCEL$/, '|INVITE'));
    const own = this.txns.addServer(key, rpeer, req);
    if (!inv || inv.txn.terminated) {
      countRejected(this.counters, 481);
      own.txn.respond(buildResponse(req, 481, own.txn));
      return;
    }
    own.txn.respond(buildResponse(req, 200, own.txn));
    const invite = inv.txn.request;
    if (!invite || inv.txn.lastStatus >= 200) return;
    const app = inv.app;
    inv.txn.respond(buildResponse(invite, 487, inv.txn));
    if (app) toApp(app, req, rpeer, inv.txn.id, '');
  }

  private onInDialog(req: SipRequest, rpeer: Peer, key: string, toTag: string): void {
    const d = this.dialogs.find(getHeader(req, 'call-id') ?? '', toTag, tagOf(getHeader(req, 'from')) ?? '');
    if (!d) return this.reject(req, rpeer, key, 481);
    const seq = cseqOf(req)?.seq ?? 0;
    if (seq <= d.remoteSeq) return this.reject(req, rpeer, key, 500, [{ key: 'retry-after', value: '1' }]);
    d.remoteSeq = seq;
    if (rpeer.protocol === 'tcp') d.peer = rpeer;
    const entry = this.txns.addServer(key, rpeer, req, d.app, d);
    if (req.method === 'INVITE') entry.txn.respond(buildResponse(req, 100, entry.txn));
    toApp(d.app, req, rpeer, entry.txn.id, d.id);
    if (req.method === 'BYE') this.dialogs.remove(d);
  }

  private onResponse(res: SipResponse): void {
    const branch = topBranch(res);
    const cseq = cseqOf(res);
    const entry = branch && cseq ? this.txns.client.byKey.get(clientKey(branch, cseq.method)) : undefined;
    if (entry) return entry.txn.receive(res);
    this.counters.dropped++;
    this.log.debug({ callId: getHeader(res, 'call-id'), status: res.status }, 'stray response dropped');
  }

  // ───────────────────────────── transactions ─────────────────────────────

  private reject(req: SipRequest, peer: Peer, key: string, status: number, extra: Header[] = []): void {
    countRejected(this.counters, status);
    const entry = this.txns.addServer(key, peer, req);
    const res = buildResponse(req, status, entry.txn);
    res.headers.push(...extra);
    entry.txn.respond(res);
  }

  /** At capacity: 503 with Retry-After, and no transaction kept for it. */
  private overloaded(req: SipRequest, peer: Peer): void {
    countRejected(this.counters, 503);
    this.send(peer, serialize(overloadedResponse(req, this.limits.retryAfterSec)));
  }

  private statelessReply(req: SipRequest, peer: Peer, status: number): void {
    countRejected(this.counters, status);
    const res = buildResponse(req, status);
    this.send(responsePeer(req, peer), serialize(res));
  }

  private newClient(req: SipRequest, peer: Peer, app?: AppConnection, dialog?: Dialog): ClientEntry {
    return this.txns.addClient(req, peer, (entry): ClientTu => ({
      response: (res) => this.appCommands.response(entry, res),
      timeout: (txn) => {
        this.counters.transactionTimeouts++;
        this.log.info({ callId: txn.callId, method: txn.method, state: txn.state }, 'no final response from the next hop; the app gets a local 408');
        this.appCommands.localResponse(entry, 408);
      },
      cancel: (cancel, inv, byTimerC) => {
        if (byTimerC) {
          this.counters.timerCCancels++;
          this.log.info({ callId: inv.callId }, 'timer C: still ringing, CANCEL sent to the callee');
        }
        this.newClient(cancel, inv.peer).txn.start();
      },
      retransmitted2xx: (res) => { this.dialogs.reAck(res); },
    }), app, dialog);
  }

  /** Its unanswered requests get 503, the lines it is ringing a CANCEL, its dialogs are forgotten. */
  private appGone(app: AppConnection): void {
    for (const e of [...this.txns.server.byId.values()]) {
      if (e.app === app && e.txn.request && e.txn.lastStatus < 200) e.txn.respond(buildResponse(e.txn.request, 503, e.txn));
    }
    for (const e of [...this.txns.client.byId.values()]) if (e.app === app && e.txn instanceof InviteClientTransaction) e.txn.cancel();
    for (const d of this.dialogs.all()) if (d.app === app) this.dialogs.remove(d);
  }
}
