// The サービス申込受付ページ's words for refusals and notices, next to the field they concern.
import type { ApplicantField, ApplicantRefusal } from '../../domain/line-info.ts';
import { ADDRESS_MESSAGES } from '../messages.ts';

export const FIELD_LABELS: Record<ApplicantField, string> = {
  name: 'お名前',
  phone: 'ご連絡先電話番号',
  mail: 'ご連絡先メールアドレス',
  completionMail: '工事完了通知',
};

export function applicantMessage(r: ApplicantRefusal, nameMax: number): string {
  const label = FIELD_LABELS[r.field];
  switch (r.why) {
    case 'required':
      return `${label}を入力してください。`;
    case 'forbidden':
      return `${label}に使用できない文字「${r.character}」が含まれています。`;
    case 'too_long':
      return `${label}は全角${nameMax}文字以内で入力してください。`;
    case 'not_full_width':
      return `${label}は全角文字で入力してください（半角文字は使用できません）。`;
    case 'format':
      return `${label}は半角数字とハイフンで入力してください（例：090-1234-5678）。`;
    case 'mobile':
      return `携帯電話のメールアドレスはご利用になれません。${label}には携帯電話以外のメールアドレスを入力してください。`;
    case 'address':
      return `${label}：${ADDRESS_MESSAGES[r.address]}`;
    case 'needs_mail':
      return '工事完了通知を希望する場合は、ご連絡先メールアドレスを入力してください。';
  }
}

export const LINE_MSG = {
  loginFailed: 'フレッツナンバーまたはアクセスキーが正しくありません。',
  loginLimited: 'ログインの試行が多すぎます。しばらくしてから、もう一度お試しください。',
  timeout: '一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。',
  loggedOut: 'ログアウトしました。',
  chooseStop: '「通知しない」に設定するサービス提供者を選択してください。',
  chooseNotify: '「通知する」に設定するサービス提供者を選択してください。',
  changedMeanwhile: '通知設定が変更されているか、変更手続き中のサービス提供者が含まれています。もう一度選択してください。',
  refused: '同意されなかったため、お申し込みは行われませんでした。',
};

export const SETTING_LABEL = { notify: '通知する', stop: '通知しない' } as const;
export const METHOD_LABEL = { web: '申込受付ページ', order: 'お申し込み時' } as const;
