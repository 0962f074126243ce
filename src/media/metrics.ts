// Counters of the built-in endpoint. Plain numbers on the hot path; prom-client reads
// them only when scraped, so packets cost no metric-library work.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DtmfSource } from './dtmf.ts';

export type IgnoredReason = 'malformed' | 'unexpected_source' | 'unknown_payload';

export class MediaStats {
  sessionsOpened = 0;
  sessionsActive = 0;
  offersRejected = 0;
  portsExhausted = 0;
  packetsSent = 0;
  packetsReceived = 0;
  /** Packets relayed between the two parties of an anchored call (MediaBridge). */
  packetsRelayed = 0;
  readonly ignored: Record<IgnoredReason, number> = { malformed: 0, unexpected_source: 0, unknown_payload: 0 };
  readonly digits: Record<DtmfSource, number> = { rfc4733: 0, info: 0, inband: 0 };
}

export function registerMediaMetrics(registry: Registry, stats: MediaStats, pacer: { lateTicks: number; stalls: number; failures: number }): void {
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const labelled = <L extends string>(name: string, help: string, label: string, values: Record<L, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, v] of Object.entries(values)) this.inc({ [label]: k }, v as number);
      },
    });
  counter('chakushin_media_sessions_opened_total', 'Media sessions opened', () => stats.sessionsOpened);
  new Gauge({
    name: 'chakushin_media_sessions_active',
    help: 'Media sessions open now',
    registers: [registry],
    collect() {
      this.set(stats.sessionsActive);
    },
  });
  counter('chakushin_media_offers_rejected_total', 'SDP offers refused as unsupported (488)', () => stats.offersRejected);
  counter('chakushin_media_ports_exhausted_total', 'Sessions refused for lack of an RTP port', () => stats.portsExhausted);
  counter('chakushin_media_rtp_sent_total', 'RTP packets sent', () => stats.packetsSent);
  counter('chakushin_media_rtp_received_total', 'UDP datagrams received on RTP ports', () => stats.packetsReceived);
  counter('chakushin_media_rtp_relayed_total', 'RTP packets relayed between the two parties of an anchored call', () => stats.packetsRelayed);
  labelled('chakushin_media_rtp_ignored_total', 'Received datagrams ignored', 'reason', stats.ignored);
  labelled('chakushin_media_dtmf_total', 'DTMF keys received (never their values)', 'source', stats.digits);
  counter('chakushin_media_pacer_late_ticks_total', 'Pacer wake-ups that had to send more than one frame', () => pacer.lateTicks);
  counter('chakushin_media_pacer_send_failures_total', 'Frames that failed to send (a bug if not 0)', () => pacer.failures);
  counter('chakushin_media_pacer_stalls_total', 'Pacer stalls long enough to restart the timeline', () => pacer.stalls);
}
