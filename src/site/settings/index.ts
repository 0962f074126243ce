// The ひかり電話設定サイト (pattern A contracts) as one login realm at the site's root: its login
// hook and login steps (steps.ts), the entrance and its トップ (account.ts), the services' pages
// (services/index.ts lists them), 認証単位変更, ワンタイムパスワード and 一括設定.
import type { FastifyInstance } from 'fastify';
import type { Realm, SiteContext } from '../foundation.ts';
import { registerAccount, type TopEntry } from './account.ts';
import { AUTH_UNIT_PATH, registerAuthUnit } from './auth-unit.ts';
import { BULK_PATH, registerBulk } from './bulk/pages.ts';
import type { SettingsContext } from './context.ts';
import { OTP_PATH, otpStep, registerOtp } from './otp/pages.ts';
import { registerService, SERVICES_PATH } from './services/common-pages.ts';
import { SERVICE_PAGES } from './services/index.ts';
import { SETTINGS_REALM } from './session.ts';
import { loginHook, passwordChangeStep, PASSWORD_PATH, type LoginStep } from './steps.ts';

/** What a login finishes before any other page, in this order. */
const LOGIN_STEPS: readonly LoginStep[] = [passwordChangeStep, otpStep];

/** The トップ, with the guide's descriptions (001 p.11). */
const TOP_MENU: readonly TopEntry[] = [
  { label: 'サービス選択', path: SERVICES_PATH, description: 'ご契約中のサービス（着信お知らせメールなど）の設定を行います。' },
  { label: 'パスワード変更', path: PASSWORD_PATH, description: '接続する時のパスワードを変更します。' },
  { label: '認証単位変更', path: AUTH_UNIT_PATH, description: '認証単位（回線単位、電話番号単位、管理者／ユーザ単位）を変更します。', shown: (l) => l.role !== 'ユーザ' },
  { label: 'ワンタイムパスワード利用選択変更', path: `${OTP_PATH}/change-choice`, description: 'ワンタイムパスワード利用有無を変更します。', shown: (l) => Boolean(l.state.otpOffered) },
  { label: 'ワンタイムパスワード受信用メールアドレス変更', path: `${OTP_PATH}/address`, description: 'ワンタイムパスワード受信用のメールアドレスを変更します。', shown: (l) => Boolean(l.state.otpOffered) },
  { label: '確認用ID変更', path: `${OTP_PATH}/change-id`, description: 'ワンタイムパスワード確認用IDを変更します。', shown: (l) => Boolean(l.state.otpOffered) },
  { label: '確認用パスワード変更', path: `${OTP_PATH}/change-password`, description: 'ワンタイムパスワード確認用パスワードを変更します。', shown: (l) => Boolean(l.state.otpOffered) },
  { label: 'ワンタイムパスワード各種一括設定', path: `${BULK_PATH}/otp`, description: 'ワンタイムパスワード受信用メールアドレス、確認用ID／パスワードを一括設定します。', shown: (l) => Boolean(l.state.otpOffered) },
];

export function settingsSite(): Realm {
  return {
    name: SETTINGS_REALM,
    prefix: '',
    frame: { brand: 'ひかり電話設定サイト', home: '/', logout: { action: '/logout', label: 'ログアウト' } },
    async register(app: FastifyInstance, site: SiteContext) {
      const ctx: SettingsContext = {
        ...site,
        steps: LOGIN_STEPS,
        requireLogin: loginHook(site, LOGIN_STEPS),
        requireStep: (step) => loginHook(site, LOGIN_STEPS, step),
      };
      registerAccount(app, ctx, TOP_MENU);
      for (const service of SERVICE_PAGES) await registerService(app, ctx, service);
      await app.register(async (scoped) => registerAuthUnit(scoped, ctx), { prefix: AUTH_UNIT_PATH });
      await app.register(async (scoped) => registerOtp(scoped, ctx), { prefix: OTP_PATH });
      await app.register(async (scoped) => registerBulk(scoped, ctx), { prefix: BULK_PATH });
    },
  };
}
