// 回線情報通知機能 (West manual 004): the rules of the お客さまID, the line's IPv6 prefix, and the
// サービス申込受付ページ's 申込者情報. One place for the site, provisioning and the lookup API.
import { mailAddressRefusal, type MailAddressRefusal } from './mail-address.ts';

/**
 * What an application asks for the chosen providers (変更後): 「通知する」 (notify: they may learn the line's
 * お客さまID) or 「通知停止」 (stop). Not 着信お知らせメール's NotifySettings.
 */
export type LineInfoSetting = 'notify' | 'stop';

/** お客さまID (= フレッツナンバー): 「CAF」+ 10 digits. */
export const CUSTOMER_ID = /^CAF\d{10}$/;

/** What a person types, as the ID: full-width letters or digits and lower case are forgiven. */
export function normalizeCustomerId(input: string): string {
  return input.normalize('NFKC').trim().toUpperCase();
}

// ---- IPv6 prefixes -------------------------------------------------------------------------

export interface Ipv6Prefix {
  /** The network address as a 128-bit number. */
  network: bigint;
  length: number;
}

const ALL = (1n << 128n) - 1n;

const HEXTET = /^[0-9a-f]{1,4}$/i;
// Dotted quad without leading zeros, as inet_pton takes it.
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_TAIL = new RegExp(`^(.*:)${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * An IPv6 address in RFC 4291 text form (hextets, one `::`, an IPv4 tail) as a 128-bit number;
 * undefined for anything else (zones `%eth0`, IPv4, brackets, spaces). Written here rather than
 * taken from node:net, which the domain does not import.
 */
function parseIpv6(text: string): bigint | undefined {
  let s = text;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = IPV4_TAIL.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number];
    s = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const hextets = (part: string) => (part === '' ? [] : part.split(':'));
  const head = hextets(halves[0]!);
  const tail = halves.length === 2 ? hextets(halves[1]!) : [];
  if (![...head, ...tail].every((g) => HEXTET.test(g))) return undefined;
  // Without `::` exactly 8 hextets; with it, at most 7 around the zeros it stands for.
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const groups = halves.length === 1 ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const maskOf = (length: number) => (length === 0 ? 0n : (ALL << BigInt(128 - length)) & ALL);

export type PrefixRefusal = 'syntax' | 'host_bits';

/** A provisioned prefix: `2001:db8:1234:5600::/56`, host bits zero. */
export function parsePrefix(text: string): Ipv6Prefix | PrefixRefusal {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return 'syntax';
  const address = parseIpv6(m[1]!);
  const length = Number(m[2]);
  if (address === undefined || length > 128) return 'syntax';
  if ((address & ~maskOf(length) & ALL) !== 0n) return 'host_bits';
  return { network: address, length };
}

/**
 * How a provider names a line: one address inside its prefix, or a prefix (the line's own or one
 * inside it). Returned as text PostgreSQL reads as `inet`; undefined when it is not IPv6.
 */
export function lineIdentifier(text: string): string | undefined {
  const t = text.trim();
  if (t.length > 64) return undefined;
  if (t.includes('/')) {
    const p = parsePrefix(t);
    return typeof p === 'string' ? undefined : t;
  }
  return parseIpv6(t) === undefined ? undefined : t;
}

/** Whether two prefixes share any address (one contains the other). */
export function prefixesOverlap(a: Ipv6Prefix, b: Ipv6Prefix): boolean {
  const shorter = Math.min(a.length, b.length);
  const mask = maskOf(shorter);
  return (a.network & mask) === (b.network & mask);
}

// ---- 申込者情報 -----------------------------------------------------------------------------

export interface ApplicantInput {
  name: string;
  phone: string;
  mail: string;
  /** 工事完了通知: 希望する */
  completionMail: boolean;
}

export type ApplicantField = 'name' | 'phone' | 'mail' | 'completionMail';

export type ApplicantRefusal =
  | { field: ApplicantField; why: 'required' }
  | { field: ApplicantField; why: 'forbidden'; character: string }
  | { field: 'name'; why: 'too_long' | 'not_full_width' }
  | { field: 'phone'; why: 'format' }
  | { field: 'mail'; why: 'mobile' }
  | { field: 'mail'; why: 'address'; address: MailAddressRefusal }
  | { field: 'completionMail'; why: 'needs_mail' };

export interface ApplicantRules {
  nameMaxLength: number;
  /** Characters the manual forbids in every field (◆特殊な文字…は使用できません). */
  forbiddenCharacters: string[];
  /** Mail domains of mobile carriers (携帯電話のメールアドレスはご利用になれません); subdomains too. */
  mobileMailDomains: string[];
}

/** Half-width forms: ASCII and half-width katakana. お名前 is 全角 only. */
const HALF_WIDTH = /[\u0020-\u007e\uff61-\uff9f]/u;
/** ご連絡先電話番号: half-width digits, hyphens between them, 10–11 digits from 0 (090-1234-5678). */
const CONTACT_PHONE = /^0\d*(-\d+)*$/;

export function isMobileMailDomain(address: string, domains: string[]): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d.toLowerCase() || domain.endsWith(`.${d.toLowerCase()}`));
}

/** お名前 as kept: trimmed, a half-width space between family and given name made full-width (a slip, not a refusal). */
export const applicantName = (typed: string) => typed.trim().replaceAll(' ', '\u3000');

/** Every refusal of a 申込者情報 form, at most one per field, in the order of the form. */
export function applicantRefusals(input: ApplicantInput, rules: ApplicantRules): ApplicantRefusal[] {
  const out: ApplicantRefusal[] = [];
  const forbidden = (field: ApplicantField, value: string) => {
    const c = [...value].find((ch) => rules.forbiddenCharacters.includes(ch));
    if (c) out.push({ field, why: 'forbidden', character: c });
    return Boolean(c);
  };
  const name = applicantName(input.name);
  if (!name) out.push({ field: 'name', why: 'required' });
  else if (!forbidden('name', name)) {
    if (HALF_WIDTH.test(name)) out.push({ field: 'name', why: 'not_full_width' });
    else if ([...name].length > rules.nameMaxLength) out.push({ field: 'name', why: 'too_long' });
  }
  const phone = input.phone.trim();
  if (!phone) out.push({ field: 'phone', why: 'required' });
  else if (!forbidden('phone', phone)) {
    const digits = phone.replaceAll('-', '').length;
    if (!CONTACT_PHONE.test(phone) || digits < 10 || digits > 11) out.push({ field: 'phone', why: 'format' });
  }
  const mail = input.mail.trim();
  if (mail && !forbidden('mail', mail)) {
    const refusal = mailAddressRefusal(mail);
    if (refusal) out.push({ field: 'mail', why: 'address', address: refusal });
    else if (isMobileMailDomain(mail, rules.mobileMailDomains)) out.push({ field: 'mail', why: 'mobile' });
  }
  if (input.completionMail && !mail) out.push({ field: 'completionMail', why: 'needs_mail' });
  return out;
}

// ---- 受付 ---------------------------------------------------------------------------------

const tokyo = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23',
});
const tokyoParts = (at: Date) => Object.fromEntries(tokyo.formatToParts(at).map((x) => [x.type, x.value]));

/** 受付完了's date-time: 2026年12月01日 19時05分17秒, Japan time whatever the server's zone. */
export function receiptTime(at: Date): string {
  const p = tokyoParts(at);
  return `${p.year}年${p.month}月${p.day}日 ${p.hour}時${p.minute}分${p.second}秒`;
}

/** 設定日 in ご利用状況詳細: 2026/12/01. */
export function settingDate(at: Date): string {
  const p = tokyoParts(at);
  return `${p.year}/${p.month}/${p.day}`;
}

/** 受付番号: the Japan date of acceptance and a sequence, 16 digits (the manual's お申し込みID). */
export function receiptNumber(acceptedAt: Date, sequence: number): string {
  const p = tokyoParts(acceptedAt);
  return `${p.year}${p.month}${p.day}${String(sequence % 1e8).padStart(8, '0')}`;
}
