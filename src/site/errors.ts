// The words of the site's error pages: every 4xx and 5xx a browser can get is one of the site's
// own Japanese pages; no framework text ever reaches it.
export interface ErrorText {
  title: string;
  message: string;
}

const REFUSED = '操作を受け付けられませんでした';
const UNAVAILABLE: ErrorText = { title: 'エラー', message: 'ただいま処理できません。しばらくしてから、もう一度お試しください。' };

export const ERROR_TEXT = {
  notFound: { title: 'ページが見つかりません', message: 'お探しのページは見つかりませんでした。アドレスをご確認ください。' },
  csrf: { title: REFUSED, message: '画面の有効期限が切れたか、正しくない画面からの操作です。画面を読み込み直してから、もう一度操作してください。' },
  badRequest: { title: REFUSED, message: '入力の形式が正しくありません。' },
  tooMany: { title: 'しばらくお待ちください', message: 'ログインの試行が多すぎます。しばらくしてから、もう一度お試しください。' },
  timeout: { title: REFUSED, message: '通信に時間がかかりすぎたため、処理を中断しました。もう一度お試しください。' },
  forbidden: { title: REFUSED, message: 'この操作は行えません。' },
  tooLarge: (limit: string) => `送信された内容が大きすぎます。CSVファイルは${limit}以内にしてください。`,
  unavailable: UNAVAILABLE,
} as const;

/** The page for a status: the same words for every page of a kind. */
export function errorText(status: number): ErrorText {
  switch (status) {
    case 404:
    case 405:
      return ERROR_TEXT.notFound;
    case 403:
      return ERROR_TEXT.forbidden;
    case 408:
      return ERROR_TEXT.timeout;
    case 413:
      return { title: REFUSED, message: ERROR_TEXT.tooLarge('指定の大きさ') };
    case 429:
      return ERROR_TEXT.tooMany;
    default:
      return status < 500 ? ERROR_TEXT.badRequest : UNAVAILABLE;
  }
}

export const isCsrfError = (err: { code?: string }) => Boolean(err.code?.startsWith('FST_CSRF'));
