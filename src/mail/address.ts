// 送信先メールアドレス rules as printed in the guides: at most 256 characters,
// exactly one '@', not first or last; local part [0-9A-Za-z] and _ . - ! $ % ' * + / ? ^ #;
// domain [0-9A-Za-z] and - . and not ending in '.'.
const LOCAL = /^[0-9A-Za-z_.\-!$%'*+/?^#]+$/;
const DOMAIN = /^[0-9A-Za-z.-]+$/;

/** Why an address is refused, or undefined when it is acceptable. */
export function mailAddressProblem(address: string): string | undefined {
  if (address.length === 0) return 'is empty';
  if (address.length > 256) return 'is longer than 256 characters';
  const at = address.split('@');
  if (at.length !== 2) return "must contain exactly one '@'";
  const [local, domain] = at as [string, string];
  if (!local || !domain) return "must not start or end with '@'";
  if (!LOCAL.test(local)) return 'has a character not allowed before the @';
  if (!DOMAIN.test(domain)) return 'has a character not allowed after the @';
  if (domain.endsWith('.')) return "must not end with '.'";
  return undefined;
}
