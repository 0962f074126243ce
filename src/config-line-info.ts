// Configuration of 回線情報通知機能 (key `lineInfo`): its page, the work delay, the words of the
// 同意書, the 申込者情報 rules and the providers' lookup tokens.
import { z } from 'zod';

const window = (max: number, windowSec: number) =>
  z.object({ max: z.number().int().min(1).default(max), windowSec: z.number().int().min(1).default(windowSec) }).default({});

/** The 同意書 as the manual prints it (A–F); the operator may replace it with the current text. */
const DEFAULT_CONSENT = [
  { heading: 'A. 「回線情報通知」提供事業者', paragraphs: ['西日本電信電話株式会社（以下、「NTT西日本」）'] },
  { heading: 'B. 契約に関する基本事項および料金', paragraphs: ['契約に関する基本事項および料金については、NTT西日本が定めるIP通信網サービス契約約款に従います。'] },
  {
    heading: 'C. サービス概要',
    paragraphs: [
      '「回線情報通知」は、「フレッツ 光ネクスト」をご契約のお客さまがNTT西日本のNGNに接続しているサービス提供者（以下、「通知先」）へIPv6を用いた接続を行う際に、お客さまご契約の「フレッツ 光ネクスト」毎に固有な「フレッツナンバー」の通知が可能になる機能（以下、「本機能」）です。',
      '通知されるフレッツナンバーは、「お客さまID」です。',
      '※お客さまIDは「CAF＋数字10桁」の半角英数字の文字列です。「お客さまID」は、「フレッツ 光ネクスト」の開通にあたりNTT西日本よりお届けする「フレッツ 光ネクスト お申し込み内容のご案内」に記載しております。',
    ],
  },
  { heading: 'D. 料金', paragraphs: ['本機能は無料です。'] },
  {
    heading: 'E. ご利用上の注意',
    paragraphs: [
      'お客さまID、アクセスキー等の管理には十分にご注意ください。万が一、これらがお客さまの過失により悪用・盗用等され、損害が発生した場合でも、NTT西日本はその責任を負いません。',
      '弊社設備等のメンテナンス等のため、サービスを一時中断する場合があります。',
      '「フレッツ 光ネクスト」を廃止した場合、本機能も廃止となります。',
      '本機能のご利用に係る提供条件等は、変更となる場合があります。',
    ],
  },
  { heading: 'F. 免責', paragraphs: ['以上の事項に起因して発生する可能性のある損害について、NTT西日本が契約者およびその他の者に対して責任を負わないことに同意していただきます。'] },
];

/** Mail domains of the Japanese mobile carriers (and their MVNO brands); subdomains are refused too. */
const DEFAULT_MOBILE_DOMAINS = [
  'docomo.ne.jp', 'mopera.net', 'ezweb.ne.jp', 'au.com', 'biz.ezweb.ne.jp', 'uqmobile.jp',
  'softbank.ne.jp', 'i.softbank.jp', 'vodafone.ne.jp', 'disney.ne.jp', 'ymobile.ne.jp', 'y-mobile.ne.jp',
  'ymobile1.ne.jp', 'emobile.ne.jp', 'willcom.com', 'pdx.ne.jp', 'rakumail.jp',
];

/**
 * ◆特殊な文字は使用できません: the printed list is garbled in the scan (「～」「|」「&」「%」「|」 /
 * 「~」「|」「-」「|」「|」). These are the characters that do not survive the Shift_JIS/CP932 round trip
 * (both wave dashes, both double bars, full-width minus, ¢ £ ¬ in both widths) plus the legible
 * half-width ones (~ | & %). The ASCII hyphen stays allowed: the manual's own example is 090-1234-5678.
 */
const DEFAULT_FORBIDDEN = ['～', '〜', '~', '∥', '‖', '|', '｜', '－', '−', '￠', '¢', '￡', '£', '￢', '¬', '&', '＆', '%', '％'];

export const lineInfoConfigSchema = z
  .object({
    /** Path prefix of the サービス申込受付ページ on the site listener. */
    path: z.string().regex(/^\/[a-z0-9-]+$/, 'a path like /line-info').default('/line-info'),
    /** 工事: a change takes effect this long after it is accepted (the manual: 概ね1時間程度). */
    workDelayMin: z.number().min(0).default(60),
    /** How often each instance's worker looks for due work. */
    workPollSec: z.number().positive().default(10),
    consent: z.array(z.object({ heading: z.string(), paragraphs: z.array(z.string()) })).min(1).default(DEFAULT_CONSENT),
    applicant: z
      .object({
        nameMaxLength: z.number().int().min(1).default(20),
        forbiddenCharacters: z.array(z.string().length(1)).default(DEFAULT_FORBIDDEN),
        mobileMailDomains: z.array(z.string().min(1)).default(DEFAULT_MOBILE_DOMAINS),
      })
      .default({}),
    /** Wrong keys per client address over a window; per お客さまID the site's login throttle applies (site.loginThrottle). */
    loginRateLimit: z.object({ perAddress: window(20, 600) }).default({}),
    /** Provider lookup API credentials: SHA-256 (hex) of each provider's bearer token; several per provider while rotating. */
    providerTokens: z
      .array(z.object({ provider: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits (sha256 of the token)') }))
      .default([]),
    /**
     * Lookups per provider token (or per address without a valid one) per window, in each instance:
     * a runaway client is slowed down before its audit rows load the database.
     */
    lookupRateLimit: window(600, 60),
    /** 工事完了通知 mail. */
    mail: z
      .object({
        from: z.string().default('line-info@flets-west.jp'),
        brand: z.string().default('NTT西日本'),
        pageName: z.string().default('サービス申込受付ページ'),
      })
      .default({}),
  })
  .default({});

export type LineInfoConfig = z.infer<typeof lineInfoConfigSchema>;
