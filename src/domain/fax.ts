// What a FAX reception record says, in words the FAXお知らせメール and the sites share.

/** How a reception ended: every page, some pages (the rest lost), or nothing usable. */
export type FaxResult = 'complete' | 'partial' | 'failed';

/** 受信結果 as the mail and the 受信FAX内容確認 page show it. */
export function faxResultText(r: { result: FaxResult; pages: number; t30Reason: string }): string {
  if (r.result === 'complete') return '正常に受信しました';
  if (r.result === 'partial') return `途中で切断されました（${r.pages}ページ受信）`;
  return `受信できませんでした（${r.t30Reason}）`;
}

/** FAXお知らせメール's pages on both settings sites (the legacy one under its prefix). */
export const FAX_SERVICE_PATH = '/fax-mail';
/** 受信FAX内容確認, under the service's path and the number. */
export const FAX_RECEPTIONS_PAGE = '/received';

/** Path of 受信FAX内容確認 for a number on the settings site (pattern A) or under the legacy prefix (pattern B): the mail links here. */
export function faxReceptionsPath(number: string, legacyPrefix?: string): string {
  return `${legacyPrefix ?? ''}${FAX_SERVICE_PATH}/${number}${FAX_RECEPTIONS_PAGE}`;
}
