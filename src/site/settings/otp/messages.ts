// The ワンタイムパスワード pages' words for each refusal and outcome (001 p.5–8, p.12–13).
export const OTP_MSG = {
  choose: 'いずれかを選択してください。',
  codeWrong: (left: number) => `ワンタイムパスワードが正しくありません。（あと${left}回入力できます）`,
  codeExhausted: 'ワンタイムパスワードを規定の回数以上誤ったため、このワンタイムパスワードは無効になりました。再度ログインしてください。',
  codeExpired: (sec: number) => `ワンタイムパスワードの有効時間（${sec}秒）を過ぎました。再度ひかり電話設定サイトにログインして、ワンタイムパスワードを送る手続きをお願いします。`,
  linkExpired: (hours: number) => `メールアドレスの本登録お手続きURLの有効期限（${hours}時間）が切れています。再度ひかり電話設定サイトにログインしてお手続きをお願いします。`,
  linkUsed: 'このURLは既に使用されたか、正しくありません。',
  checkWrong: '確認用IDまたは確認用パスワードが正しくありません。',
  checkLocked: '確認用ID・確認用パスワードの誤りが多いため、本日はメールアドレスの変更を受け付けられません。',
  currentWrong: (what: string) => `変更前の${what}が正しくありません。`,
  confirmMismatch: (what: string) => `新しい${what}（確認）が一致しません。`,
  sameAsCurrent: (what: string) => `現在の${what}と同一の${what}は設定できません。`,
  saved: '設定しました。',
  codeLimit: (perHour: number) => `ワンタイムパスワードの送信は1時間に${perHour}回までです。しばらくしてから、もう一度ログインしてください。`,
} as const;

export const CHECK_ID_MESSAGES = {
  length: '確認用IDは8～12桁の半角英数字で入力してください。',
  characters: '確認用IDは半角英数字で入力してください。',
  upper_only: '英字大文字のみの確認用IDは利用できません。',
  lower_only: '英字小文字のみの確認用IDは利用できません。',
  digits_only: '数字のみの確認用IDは利用できません。',
} as const;
export const CHECK_PASSWORD_MESSAGES = {
  length: '確認用パスワードは8～12桁の半角英数字で入力してください。',
  characters: '確認用パスワードは半角英数字で入力してください。',
  needs_both: '確認用パスワードは英字と数字の両方を組み合わせてください。',
} as const;
