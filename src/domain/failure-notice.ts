// 故障・回復通知機能 and 一括転送機能: the two services a contract subscribes as a whole (002: 一括転送機能,
// 故障・回復通知機能), their settings and the rules they obey. The site, provisioning and the prober
// take their words and rules from here; the 転送先 rules are ボイスワープ's (voice-warp.ts).
import { jisX0208Table } from './jis-x0208.ts';

/** Services of a whole contract (phone_number.services are the per-number ones). */
export const CONTRACT_SERVICES = ['bulk_forward', 'failure_notice'] as const;
export type ContractService = (typeof CONTRACT_SERVICES)[number];
export const CONTRACT_SERVICE_NAMES: Record<ContractService, string> = { bulk_forward: '一括転送機能', failure_notice: '故障・回復通知機能' };

/**
 * Who started 一括転送: the subscriber on the site, the operator by provisioning, or the service
 * itself on a 故障 (一括転送自動開始). 回復 stops only what the service started.
 */
export const BULK_FORWARD_STARTERS = ['subscriber', 'operator', 'service'] as const;
export type BulkForwardStarter = (typeof BULK_FORWARD_STARTERS)[number];

/** The audit actor of a change the service made by itself (一括転送自動開始／自動停止). */
export const SERVICE_ACTOR = 'service';

export interface FailureNoticeSettings {
  started: boolean;
  /** 契約者名 and 拠点情報 of 送信メール内容設定; '' when not set. */
  contractorName: string;
  siteInfo: string;
  destinations: { address: string; send: boolean }[];
  /** 一括転送自動開始 (on 故障) and 一括転送自動停止 (on 回復). */
  autoStartBulkForward: boolean;
  autoStopBulkForward: boolean;
}

/**
 * 契約者名 and 拠点情報: the guides give no limits. 40 characters each (a company name and a branch
 * fit; the mail subject stays readable), and only characters every mail can carry: printable ASCII
 * and JIS X 0208 proper (so an ISO-2022-JP mail shows them as typed on any handset). Refused: half-width katakana (an
 * ISO-2022-JP mail would show them widened), characters outside JIS X 0208 (①, ㈱, 髙, emoji…),
 * control characters and line breaks.
 */
export const MAIL_TEXT_MAX_LENGTH = 40;

export type MailTextField = 'contractorName' | 'siteInfo';
export const MAIL_TEXT_LABELS: Record<MailTextField, string> = { contractorName: '契約者名', siteInfo: '拠点情報' };

export type MailTextRefusal = { rule: 'too_long' } | { rule: 'character'; character: string };

/**
 * A character of JIS X 0208 proper: rows 1–8 (symbols, letters, kana) and 16–84 (kanji). The
 * decoders' table also holds NEC's row 13 (①, ㈱, Ⅰ…) and IBM's rows 89–92 (髙, 﨑…): those are the
 * 機種依存文字 that some handsets show as something else.
 */
function isStandardJis(ch: string): boolean {
  const code = jisX0208Table().get(ch);
  return code !== undefined && code[0] !== 0x2d && code[0] <= 0x74;
}

/** Why a 契約者名／拠点情報 value is refused (after trimming the ends), or undefined. */
export function mailTextRefusal(value: string): MailTextRefusal | undefined {
  const chars = [...value];
  if (chars.length > MAIL_TEXT_MAX_LENGTH) return { rule: 'too_long' };
  const bad = chars.find((ch) => !(/^[\x20-\x7e]$/.test(ch) || isStandardJis(ch)));
  return bad === undefined ? undefined : { rule: 'character', character: bad };
}

/** The refusal as the site shows it next to the field. */
export function mailTextMessage(field: MailTextField, refusal: MailTextRefusal): string {
  const label = MAIL_TEXT_LABELS[field];
  if (refusal.rule === 'too_long') return `${label}は${MAIL_TEXT_MAX_LENGTH}文字以内で入力してください。`;
  const shown = /^[\x00-\x1f\x7f]$/.test(refusal.character) ? '改行・制御文字' : `「${refusal.character}」`;
  return `${label}に使用できない文字（${shown}）が含まれています。半角カナ、機種依存文字は使用できません。`;
}

/** The same in English for provisioning and the CLI. */
export function mailTextProblem(refusal: MailTextRefusal): string {
  if (refusal.rule === 'too_long') return `must be at most ${MAIL_TEXT_MAX_LENGTH} characters`;
  const code = `U+${refusal.character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `character ${JSON.stringify(refusal.character)} (${code}) cannot be mailed: printable ASCII and JIS X 0208 only (no half-width katakana, no machine-dependent characters, no line breaks)`;
}
