// What a FAX reception record says, in words the FAXお知らせメール and the sites share.

/** How a reception ended: every page, some pages (the rest lost), or nothing usable. */
export type FaxResult = 'complete' | 'partial' | 'failed';

/** 受信結果 as the mail and the 受信FAX内容確認 page show it. */
export function faxResultText(r: { result: FaxResult; pages: number; t30Reason: string }): string {
  if (r.result === 'complete') return '正常に受信しました';
  if (r.result === 'partial') return `途中で切断されました（${r.pages}ページ受信）`;
  return `受信できませんでした（${r.t30Reason}）`;
}

/** Path of 受信FAX内容確認 for a number on the settings site (pattern A) or under the legacy prefix (pattern B). */
export function faxReceptionsPath(number: string, legacyPrefix?: string): string {
  return `${legacyPrefix ?? ''}/fax-mail/${number}/received`;
}
