// ISO-2022-JP (RFC 1468) encoder for old handsets. Node can decode this charset but not encode it;
// the JIS X 0208 table is therefore derived once from Node's own decoder (domain/jis-x0208.ts), so
// encoding and the decoders recipients use agree by construction.
import { jisX0208Table } from '../domain/jis-x0208.ts';

const ESC_JIS = Buffer.from([0x1b, 0x24, 0x42]); // ESC $ B
const ESC_ASCII = Buffer.from([0x1b, 0x28, 0x42]); // ESC ( B
/** 〓 (geta): the customary stand-in for a character JIS X 0208 lacks. */
const GETA = [0x22, 0x2e] as const;

/** Half-width katakana are not in ISO-2022-JP: use their full-width forms (NFKC does exactly that). */
function widenKana(text: string): string {
  return text.replace(/[\uff61-\uff9f]+/g, (s) => s.normalize('NFKC'));
}

export function encodeIso2022jp(text: string): Buffer {
  const jis = jisX0208Table();
  const out: number[] = [];
  let inJis = false;
  for (const ch of widenKana(text)) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      if (inJis) out.push(...ESC_ASCII);
      inJis = false;
      out.push(code);
      continue;
    }
    if (!inJis) out.push(...ESC_JIS);
    inJis = true;
    out.push(...(jis.get(ch) ?? GETA));
  }
  if (inJis) out.push(...ESC_ASCII);
  return Buffer.from(out);
}

/**
 * A header value as RFC 2047 encoded-words, each a complete JIS sequence short enough for a
 * 76-character line, folded with CRLF SP (decoders join adjacent encoded-words).
 */
export function encodeIso2022jpHeader(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const chars = [...text];
  const words: string[] = [];
  for (let i = 0; i < chars.length; i += 8) {
    words.push(`=?ISO-2022-JP?B?${encodeIso2022jp(chars.slice(i, i + 8).join('')).toString('base64')}?=`);
  }
  return words.join('\r\n ');
}
