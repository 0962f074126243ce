// Engine counters: plain numbers updated on the hot path, turned into Prometheus metrics on scrape.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface EngineCounters {
  messagesIn: number;
  messagesOut: number;
  /** Datagrams or stream messages that could not be parsed at all (dropped, logged). */
  parseErrors: number;
  /** Requests answered with an error by the engine itself, by status code. */
  rejected: Map<number, number>;
  /** Retransmitted requests/responses absorbed by a transaction. */
  retransmissionsAbsorbed: number;
  /** Messages dropped for another reason (stray response, ACK without transaction, …). */
  dropped: number;
  ackTimeouts: number;
  transactionTimeouts: number;
  /** Ringing INVITEs the engine CANCELled itself when timer C fired (§16.8). */
  timerCCancels: number;
  /** Exceptions contained at a transaction, dialog or message boundary (that transaction or call was ended). */
  faults: number;
  /** Transitions a transaction state machine does not have (a bug; logged, never thrown). */
  illegalTransitions: number;
  appConnections: () => number;
  transactions: () => number;
  dialogs: () => number;
  /** SIP TCP connections reset at accept because a connection cap was reached. */
  tcpRefused: number;
  /** SIP TCP connections closed for not completing a message in time. */
  tcpTimedOut: number;
  tcpConnections: () => number;
  /** Wrong secrets on the admin socket (and attempts refused while an address is held back). */
  adminAuthFailures: number;
  /** Admin connections closed before authenticating: too slow, too many bytes, a non-auth frame, or crowded out. */
  adminUnauthenticatedClosed: number;
}

export function newCounters(gauges: Pick<EngineCounters, 'appConnections' | 'transactions' | 'dialogs'>): EngineCounters {
  return {
    tcpRefused: 0, tcpTimedOut: 0, tcpConnections: () => 0, adminAuthFailures: 0, adminUnauthenticatedClosed: 0,
    messagesIn: 0, messagesOut: 0, parseErrors: 0, rejected: new Map(), retransmissionsAbsorbed: 0,
    dropped: 0, ackTimeouts: 0, transactionTimeouts: 0, timerCCancels: 0, faults: 0, illegalTransitions: 0, ...gauges,
  };
}

export function countRejected(c: EngineCounters, status: number): void {
  c.rejected.set(status, (c.rejected.get(status) ?? 0) + 1);
}

/** Registers the engine's metrics on a prom-client registry (values are read at scrape time). */
export function registerEngineMetrics(c: EngineCounters, registry: Registry): void {
  const registers = [registry];
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name, help, registers,
      collect() { this.reset(); this.inc(read()); },
    });
  counter('sip_engine_messages_received_total', 'SIP messages received from the network', () => c.messagesIn);
  counter('sip_engine_messages_sent_total', 'SIP messages sent to the network', () => c.messagesOut);
  counter('sip_engine_parse_errors_total', 'Malformed SIP messages (dropped or answered 400/513)', () => c.parseErrors);
  counter('sip_engine_tcp_refused_total', 'SIP TCP connections refused at a connection cap', () => c.tcpRefused);
  counter('sip_engine_tcp_timed_out_total', 'SIP TCP connections closed for not completing a message in time', () => c.tcpTimedOut);
  counter('sip_engine_admin_auth_failures_total', 'Admin socket authentications refused', () => c.adminAuthFailures);
  counter('sip_engine_admin_unauthenticated_closed_total', 'Admin connections closed before authenticating', () => c.adminUnauthenticatedClosed);
  counter('sip_engine_retransmissions_absorbed_total', 'Retransmissions absorbed by transactions', () => c.retransmissionsAbsorbed);
  counter('sip_engine_dropped_total', 'SIP messages dropped without an answer', () => c.dropped);
  counter('sip_engine_ack_timeouts_total', 'INVITE 2xx never acknowledged (dialog torn down with BYE)', () => c.ackTimeouts);
  counter('sip_engine_transaction_timeouts_total', 'Client transactions that timed out (timer B/F, or no answer to a CANCEL)', () => c.transactionTimeouts);
  counter('sip_engine_timer_c_cancels_total', 'Ringing INVITEs CANCELled by the engine when timer C fired', () => c.timerCCancels);
  counter('sip_engine_faults_total', 'Exceptions contained at a transaction, dialog or message boundary', () => c.faults);
  counter('sip_engine_illegal_transitions_total', 'Transitions a transaction state machine does not have', () => c.illegalTransitions);
  new Counter({
    name: 'sip_engine_rejected_total', help: 'Requests the engine answered itself with an error', labelNames: ['status'], registers,
    collect() {
      this.reset();
      for (const [status, n] of c.rejected) this.inc({ status: String(status) }, n);
    },
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  gauge('sip_engine_app_connections', 'Authenticated drachtio app connections', c.appConnections);
  gauge('sip_engine_transactions', 'Live SIP transactions', c.transactions);
  gauge('sip_engine_dialogs', 'Live SIP dialogs', c.dialogs);
  gauge('sip_engine_tcp_connections', 'Open SIP TCP connections', () => c.tcpConnections());
}
