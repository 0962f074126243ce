// Writes a finished FAX reception (fax_reception, with its PDF) and its FAXお知らせメール
// (mail_outbox) in one transaction: a recorded reception always has its mails queued, once.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { faxReceptionsPath } from '../domain/fax.ts';
import { MAX_DESTINATIONS } from '../domain/limits.ts';
import { formatFaxMail } from '../mail/format.ts';
import { enqueueMails } from '../mail/outbox.ts';
import type { FaxReception } from '../media/port.ts';
import { insertFaxReception, linkFaxMails, type FaxSettings } from '../store/fax.ts';
import { withTransaction } from '../store/transaction.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { NotifyProfile } from './profile.ts';

export interface FinishedFax {
  callId: string;
  calledNumber: string;
  caller: CallerId;
  inviteAt: Date;
  /** Ring-first: when the line started ringing (its 呼出時間 runs to receivedAt). */
  ringAt?: Date;
  receivedAt: Date;
  endedAt: Date;
  reception: FaxReception;
}

export type FaxConfig = Pick<Config, 'mail' | 'fax' | 'site'>;

/** 受信FAX内容確認 of the number on its own site, from configured addresses only (never a request's). */
export function faxViewUrl(config: FaxConfig, pattern: 'A' | 'B', number: string): string {
  const origin = (config.site.publicUrl ?? `http://${config.site.listen.host}:${config.site.listen.port}`).replace(/\/$/, '');
  return `${origin}${faxReceptionsPath(number, pattern === 'B' ? config.site.legacyPrefix : undefined)}`;
}

export async function recordFaxReception(
  pool: pg.Pool,
  config: FaxConfig,
  profile: Pick<NotifyProfile, 'pattern' | 'region'>,
  settings: FaxSettings,
  fax: FinishedFax,
): Promise<{ receptionId: number | null; mailIds: number[] }> {
  return withTransaction(pool, async (client) => {
    const r = fax.reception;
    const id = await insertFaxReception(client, {
      callId: fax.callId, calledNumber: fax.calledNumber, callerNumber: fax.caller.number, absentReason: fax.caller.absentReason,
      inviteAt: fax.inviteAt, receivedAt: fax.receivedAt, endedAt: fax.endedAt, remoteIdent: r.remoteIdent, pages: r.pages,
      resolution: r.resolution, result: r.result, t30Code: r.t30Code, t30Reason: r.t30Reason, transport: r.transport, pdf: r.pdf,
      expiresAt: new Date(fax.receivedAt.getTime() + config.fax.retentionDays * 86_400_000),
    });
    if (id === null) return { receptionId: null, mailIds: [] };
    const to = [...new Set(settings.destinations.slice(0, MAX_DESTINATIONS).filter((d) => d.send).map((d) => d.address))];
    if (!settings.started || to.length === 0) return { receptionId: id, mailIds: [] };
    const footer = config.mail.footers[profile.pattern][profile.region];
    const text = formatFaxMail(
      {
        calledNumber: fax.calledNumber, receivedAt: fax.receivedAt, callerNumber: fax.caller.number, absentReason: fax.caller.absentReason,
        pages: r.pages, result: r.result, t30Reason: r.t30Reason, viewUrl: faxViewUrl(config, profile.pattern, fax.calledNumber),
      },
      profile.pattern,
      footer,
    );
    const mailIds = await enqueueMails(
      client,
      to.map((address) => ({
        kind: 'notify' as const, incomingCallId: null, to: address, from: footer.from, subject: text.subject, body: text.body,
        charset: config.mail.charset, retryForSec: config.mail.retryForSec,
      })),
    );
    await linkFaxMails(client, id, mailIds, config.fax.attachPdf && r.pdf !== null);
    return { receptionId: id, mailIds };
  });
}
