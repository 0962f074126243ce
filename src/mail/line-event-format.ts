// 故障・回復通知: the mail that tells a contract's 送信先 that a line is down (故障) or back (回復).
// The guides give no text (002 names only 契約者名 and 拠点情報 as its content); this is ours, in the
// 着信お知らせメール's `項目:値` style, and documented in the README.
import type { MailFooter, MailText } from './format.ts';
import { mailFooter, tokyoTime } from './format.ts';
import { CONTRACT_SERVICE_NAMES } from '../domain/failure-notice.ts';
import type { Pattern } from '../domain/subscriber.ts';

/** What 一括転送 did at the event (line_event.bulk_forward). */
export type BulkForwardOutcome = 'started' | 'stopped' | 'kept' | 'none';

export interface LineEventFacts {
  kind: 'down' | 'up';
  /** When it was detected. */
  at: Date;
  contractorName: string;
  siteInfo: string;
  /** The numbers on the line. */
  numbers: string[];
  bulkForward: BulkForwardOutcome;
}

const WORD = { down: '故障', up: '回復' } as const;

function bulkForwardLine(kind: 'down' | 'up', outcome: BulkForwardOutcome): string {
  switch (outcome) {
    case 'started':
      return '一括転送:自動で開始しました';
    case 'stopped':
      return '一括転送:自動で停止しました';
    case 'kept':
      return kind === 'down' ? '一括転送:開始中' : '一括転送:開始中（自動では停止していません）';
    case 'none':
      return '一括転送:停止中';
  }
}

export function formatLineEventMail(f: LineEventFacts, pattern: Pattern, footer: MailFooter): MailText {
  const word = WORD[f.kind];
  const lead = f.kind === 'down'
    ? '次の電話番号の回線で故障を検知しました。お客さまの電話機・機器またはネットワークから応答がありません。'
    : '次の電話番号の回線で回復を検知しました。お客さまの電話機・機器からの応答を確認しました。';
  const lines = [
    lead,
    '',
    `状態:${word}`,
    `検知日時:${tokyoTime(f.at)}`,
    `契約者名:${f.contractorName}`,
    `拠点情報:${f.siteInfo}`,
    `対象電話番号:${f.numbers.join('、')}`,
    bulkForwardLine(f.kind, f.bulkForward),
    '',
    ...mailFooter(pattern, footer, CONTRACT_SERVICE_NAMES.failure_notice),
  ];
  const about = f.siteInfo || f.numbers[0] || '';
  return { subject: `${word}通知（${about}）`, body: `${lines.join('\n')}\n` };
}

/** 送信テスト of 故障・回復通知: lets the customer check an address, and see 契約者名 and 拠点情報 as a mail will show them. */
export function formatLineEventTestMail(f: { contractorName: string; siteInfo: string; at: Date }, pattern: Pattern, footer: MailFooter): MailText {
  const lines = [
    'このメールは「故障・回復通知機能」の送信テストです。',
    `契約者名:${f.contractorName}`,
    `拠点情報:${f.siteInfo}`,
    `送信日時:${tokyoTime(f.at)}`,
    'このメールが届いていれば、送信先メールアドレスは正しく設定されています。',
    '',
    ...mailFooter(pattern, footer, CONTRACT_SERVICE_NAMES.failure_notice),
  ];
  return { subject: `送信テスト（故障・回復通知${f.siteInfo ? `：${f.siteInfo}` : ''}）`, body: `${lines.join('\n')}\n` };
}
