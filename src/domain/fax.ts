// What a FAX reception record says, in words the FAXお知らせメール and the sites share.

/** How a reception ended: every page, some pages (the rest lost), or nothing usable. */
export type FaxResult = 'complete' | 'partial' | 'failed';

/**
 * Why a reception failed, in a subscriber's words, from spandsp's T.30 completion code (t30.h's
 * T30_ERR_* order, the same in FreeSWITCH's spandsp): the technical reason stays in the record for
 * operators (`chakushin fax list`), the mail and the sites say what the subscriber can act on.
 */
export function faxFailureCause(t30Code: number | null | undefined): string {
  if (t30Code === undefined || t30Code === null) return '受信が中断されました';
  // CED too long, T0/T1 expired, no image carrier: the caller never spoke FAX.
  if (t30Code >= 1 && t30Code <= 3) return '相手からFAX信号がありませんでした';
  // Modem training, incompatible or incapable far end, resolution or size not supported.
  if (t30Code === 6 || (t30Code >= 8 && t30Code <= 12)) return '相手のFAXと通信条件が合いませんでした';
  // Carrier lost, unexpected DCN (26, 35–40), retries exhausted or the call dropped (48, 49).
  if (t30Code === 26 || (t30Code >= 35 && t30Code <= 40) || t30Code === 48 || t30Code === 49) return '通信が途中で切断されました';
  return `通信エラーが発生しました（T.30 コード ${t30Code}）`;
}

/** 受信結果 as the mail and the 受信FAX内容確認 page show it. */
export function faxResultText(r: { result: FaxResult; pages: number; t30Code?: number | null }): string {
  if (r.result === 'complete') return '正常に受信しました';
  if (r.result === 'partial') return `途中で切断されました（${r.pages}ページ受信）`;
  return `受信できませんでした（${faxFailureCause(r.t30Code)}）`;
}

/** FAXお知らせメール's pages on both settings sites (the legacy one under its prefix). */
export const FAX_SERVICE_PATH = '/fax-mail';
/** 受信FAX内容確認, under the service's path and the number. */
export const FAX_RECEPTIONS_PAGE = '/received';

/** Path of 受信FAX内容確認 for a number on the settings site (pattern A) or under the legacy prefix (pattern B): the mail links here. */
export function faxReceptionsPath(number: string, legacyPrefix?: string): string {
  return `${legacyPrefix ?? ''}${FAX_SERVICE_PATH}/${number}${FAX_RECEPTIONS_PAGE}`;
}
