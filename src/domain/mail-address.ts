// 送信先メールアドレス: one rule for the settings site, provisioning and 送信テスト.
// From the guides: at most 256 characters; exactly one '@', not first or last; local part of
// 0-9 A-Z a-z and _ . - ! $ % ' * + / ? ^ #; domain of 0-9 A-Z a-z - . and not ending in '.'
// (000 p.139). Also refused because the carrier cannot deliver to them (001 p.2 "RFC違反"):
// '..' anywhere, '.' first or right before '@', a local part of 64 characters or more.
const LOCAL = /^[0-9A-Za-z_.\-!$%'*+/?^#]+$/;
/** The legacy site (サービス設定ホームページ, 000 p.146): left of '@' may not use ! $ % ' * + / ? ^ #. */
const LEGACY_LOCAL = /^[0-9A-Za-z_.-]+$/;
/** Which site's rule: the current one, or the legacy site's narrower local part. */
export type MailAddressVariant = 'site' | 'legacy';
const DOMAIN = /^[0-9A-Za-z.-]+$/;
export const MAX_ADDRESS_LENGTH = 256;
/** The local part must be shorter than this (「@マークの前が64文字以上」 is refused). */
export const LOCAL_PART_LIMIT = 64;

export type MailAddressRefusal =
  | 'empty'
  | 'too_long'
  | 'at_count'
  | 'at_edge'
  | 'local_chars'
  | 'domain_chars'
  | 'domain_trailing_dot'
  | 'double_dot'
  | 'dot_edge'
  | 'local_too_long';

/** Why an address is refused (checked in the order a person would fix them), or undefined. */
export function mailAddressRefusal(address: string, variant: MailAddressVariant = 'site'): MailAddressRefusal | undefined {
  if (address.length === 0) return 'empty';
  if (address.length > MAX_ADDRESS_LENGTH) return 'too_long';
  const at = address.split('@');
  if (at.length !== 2) return 'at_count';
  const [local, domain] = at as [string, string];
  if (!local || !domain) return 'at_edge';
  if (!(variant === 'legacy' ? LEGACY_LOCAL : LOCAL).test(local)) return 'local_chars';
  if (!DOMAIN.test(domain)) return 'domain_chars';
  if (domain.endsWith('.')) return 'domain_trailing_dot';
  if (address.includes('..')) return 'double_dot';
  if (local.startsWith('.') || local.endsWith('.')) return 'dot_edge';
  if (local.length >= LOCAL_PART_LIMIT) return 'local_too_long';
  return undefined;
}

const ENGLISH: Record<MailAddressRefusal, string> = {
  empty: 'is empty',
  too_long: `is longer than ${MAX_ADDRESS_LENGTH} characters`,
  at_count: "must contain exactly one '@'",
  at_edge: "must not start or end with '@'",
  local_chars: 'has a character not allowed before the @',
  domain_chars: 'has a character not allowed after the @',
  domain_trailing_dot: "must not end with '.'",
  double_dot: "must not contain '..'",
  dot_edge: "must not have '.' first or right before the @",
  local_too_long: `must have fewer than ${LOCAL_PART_LIMIT} characters before the @`,
};

/** The refusal in English for the CLI and provisioning errors, or undefined when acceptable. */
export function mailAddressProblem(address: string): string | undefined {
  const refusal = mailAddressRefusal(address);
  return refusal && ENGLISH[refusal];
}
