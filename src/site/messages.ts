// The site's words for every refusal, next to the field it concerns. Wording follows the guides'
// own sentences where they have one (000 p.129–139, 001 p.6/p.11).
import type { MailAddressRefusal } from '../domain/mail-address.ts';
import type { PasswordRefusal } from '../domain/password.ts';

export const PASSWORD_MESSAGES: Record<PasswordRefusal, string> = {
  length: 'パスワードは8桁～12桁で入力してください。',
  characters: 'パスワードは半角英数字で入力してください。',
  digits_only: '数字のみのパスワードは設定できません。',
  same_as_current: '現在のパスワードと同一のパスワードは設定できません。',
  repeated_run: '0000、aaaa等の4文字以上の同一文字列を含むパスワードは設定できません。',
  sequence_run: '1234、abcd等の昇降順の4文字以上の文字列を含むパスワードは設定できません。',
  contains_number: 'お客さまの電話番号を含むパスワードは設定できません。',
};

export const ADDRESS_MESSAGES: Record<MailAddressRefusal, string> = {
  empty: 'メールアドレスを入力してください。',
  too_long: 'メールアドレスは半角256文字以内で入力してください。',
  at_count: '「@」は必ず1つだけ入力してください。',
  at_edge: '「@」をメールアドレスの先頭および末尾に入力することはできません。',
  local_chars: '「@」の前に使用できない文字が含まれています（使用できる文字：半角英数字と _ . - ! $ % \' * + / ? ^ #）。',
  domain_chars: '「@」の後に使用できない文字が含まれています（使用できる文字：半角英数字と - .）。',
  domain_trailing_dot: 'メールアドレスの末尾に「.」を入力することはできません。',
  double_dot: '「.」を2つ続けて使用することはできません。',
  dot_edge: '「.」を先頭および「@」の直前に使用することはできません。',
  local_too_long: '「@」の前は63文字以内で入力してください。',
};

/** A login refused before its password was checked (login-attempt.ts): one source's share of wrong entries is used, or the number waits. */
export function throttledMessage(retryAfterSec?: number): string {
  return retryAfterSec
    ? `ログインの誤りが続いているため、この電話番号へのログインを一時的に制限しています。${retryAfterSec}秒ほど待ってから、もう一度お試しください。`
    : 'この電話番号へのログインの誤りが多いため、お使いの接続元からのログインを制限しています。別の接続元（携帯電話回線など）からログインするか、仮パスワードを設定し直してからログインしてください。';
}

export const MSG = {
  saved: '設定しました。',
  passwordChanged: 'パスワードを変更しました。',
  loginFailed: '電話番号またはパスワードが正しくありません。',
  timeout: '一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。',
  loggedOut: 'ログアウトしました。',
  stale: '別の画面などで設定が変更されています。画面を読み込み直してから、もう一度設定してください。',
  currentWrong: '現在のパスワードが正しくありません。',
  confirmMismatch: '新しいパスワード（確認）が新しいパスワードと一致しません。',
  mustChangeTemp: '仮パスワードでログインしました。今後接続する時に使用するパスワードを設定してください。現在のパスワードには仮パスワードを入力してください。',
  mustChangeExpired: 'パスワードの有効期限（60日間）が切れています。新しいパスワードを設定してください。',
  startWithoutAddress: '送信先メールアドレスが設定されていないため、開始できません。先に「送信先メールアドレス設定」を行ってください。',
  removeAllWhileStarted: 'サービス開始中は、送信先メールアドレスをすべて削除することはできません。先にサービスを停止してください。',
  sendWithoutAddress: '「送信」にチェックを入れた送信先には、メールアドレスを入力してください。',
  designatedWithoutNumber: '「指定」にチェックを入れた行には、電話番号を入力してください。',
  badNumber: '電話番号はハイフンなしの半角数字（0から始まる10桁または11桁）で入力してください。',
  duplicateNumber: '同じ電話番号が複数入力されています。',
  duplicateAddress: '同じメールアドレスが複数入力されています。',
  tooManyRows: (max: number, what: string) => `${what}は${max}件まで設定できます。`,
  testMailSent: (n: number, address: string) => `送信先メールアドレス${n}（${address}）へ送信テストメールを送信しました。届いたことをご確認ください。`,
  testMailLimit: (perHour: number) => `送信テストは1時間に${perHour}回までです。しばらくしてから、もう一度お試しください。`,
  searchBad: '電話番号の一部（半角数字）を入力してください。「*」はワイルドカードとして使用できます。',
};
