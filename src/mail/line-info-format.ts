// 工事完了通知: the mail that tells an applicant the work of a 回線情報通知 application is done.
// The manual: 工事内容を正確に通知するため、一部お客様固有の情報が記載されます — the 受付番号, the
// お客さまID with its middle digits hidden, and what changed.
import type { LineInfoConfig } from '../config-line-info.ts';
import { receiptTime, type LineInfoSetting } from '../domain/line-info.ts';
import type { MailText } from './format.ts';

export interface CompletionFacts {
  receiptNo: string;
  customerId: string;
  applicantName: string;
  acceptedAt: Date;
  doneAt: Date;
  setting: LineInfoSetting;
  providers: { serviceName: string; id: string; name: string }[];
}

/** CAF0012345678 → CAF******5678: enough for the owner to recognise, little for anyone else. */
export const maskCustomerId = (id: string) => `${id.slice(0, 3)}${'*'.repeat(Math.max(0, id.length - 7))}${id.slice(-4)}`;

export function formatCompletionMail(f: CompletionFacts, mail: LineInfoConfig['mail']): MailText {
  const after = f.setting === 'notify' ? '通知する' : '通知しない';
  const lines = [
    `${f.applicantName} 様`,
    '',
    `${mail.pageName}でお申し込みいただいた回線情報通知機能の工事が完了しました。`,
    '',
    `受付番号:${f.receiptNo}`,
    `お客さまID:${maskCustomerId(f.customerId)}`,
    `受付日時:${receiptTime(f.acceptedAt)}`,
    `工事完了日時:${receiptTime(f.doneAt)}`,
    '',
    '変更内容(サービス名 / サービス提供者名 / 通知設定)',
    ...f.providers.map((p) => `・${p.serviceName} / ${p.id} ${p.name} / ${after}`),
    '',
    '------',
    `${mail.brand}　回線情報通知機能`,
    '※本メールは送信専用のため返信できません。',
  ];
  return { subject: `【回線情報通知機能】工事完了のお知らせ（受付番号:${f.receiptNo}）`, body: `${lines.join('\n')}\n` };
}
