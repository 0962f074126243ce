// The legacy site's words (000 p.143–150). Refusals the new site shares keep its wording
// (src/site/messages.ts); these are the ones whose rule or screen name differs.
import type { LegacyPasswordRefusal } from '../../domain/legacy-password.ts';
import type { MailAddressRefusal } from '../../domain/mail-address.ts';
import { ADDRESS_MESSAGES } from '../messages.ts';

export const LEGACY_PASSWORD_MESSAGES: Record<LegacyPasswordRefusal, string> = {
  length: 'パスワードは4桁～8桁の半角英数字で設定してください。',
  characters: 'パスワードは半角英数字で設定してください。',
  digits_only: '数字のみのパスワードは設定できません。',
  same_as_current: '現在のパスワードと同一のパスワードは設定できません。',
};

export const LEGACY_ADDRESS_MESSAGES: Record<MailAddressRefusal, string> = {
  ...ADDRESS_MESSAGES,
  local_chars: 'メールアドレスの＠の左側では、「! $ % \' * + / ? ^ #」が使用できません（使用できる文字：半角英数字と _ . -）。',
};

export const LEGACY_MSG = {
  loginFailed: '電話番号またはパスワードが正しくありません。',
  timeout: (min: number) => `ログイン状態で${min}分間何も操作しなかったため、自動的にログアウトしました。設定作業を続ける場合は、再度ログインしてください。`,
  migrated:
    '設備変更工事により、このお電話番号の設定は「ひかり電話設定サイト」で行っていただくこととなりました。「ひかり電話設定サイト」のログイン画面の「旧設定サイトからパスワード引継ぎ」から、パスワードを引き継いでください。',
  gone: 'このお電話番号の設定は、サービス設定ホームページではご利用いただけません。',
  mustSetPassword: '仮パスワードで接続しました。今後接続する時に使用するパスワード（4～8桁の半角英数字）を設定してください。',
  tempWrong: '電話で設定したパスワードが正しくありません。',
  currentWrong: '現在のパスワードが正しくありません。',
  confirmMismatch: '新しいパスワード（確認）が新しいパスワードと一致しません。',
  passwordSet: 'パスワードを設定しました。',
  passwordChanged: 'パスワードを変更しました。',
  saved: '設定しました。',
  startWithoutAddress: '送信先メールアドレスが登録されていないため、開始できません。先に「送信先メールアドレス登録／確認」を行ってください。',
  sendWithoutAddress: '「送信する」にチェックを入れた送信先には、メールアドレスを入力してください。',
  designatedWithoutNumber: '「指定する」にチェックを入れた行には、発信電話番号を入力してください。',
  testMailSent: (n: number, address: string) => `送信先メールアドレス${n}（${address}）へテストメールを送信しました。正しくメールが届くことをご確認ください。`,
  ended: 'サービスの設定を終了しました。ブラウザーの「閉じる」ボタンを押して、画面を閉じてください。',
};
