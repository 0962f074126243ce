// ISO-2022-JP (RFC 1468) encoder for old handsets. Node can decode this charset but not encode it;
// the JIS X 0208 table is therefore derived once from Node's own decoder, so encoding and the
// decoders recipients use agree by construction.

const ESC_JIS = Buffer.from([0x1b, 0x24, 0x42]); // ESC $ B
const ESC_ASCII = Buffer.from([0x1b, 0x28, 0x42]); // ESC ( B
/** 〓 (geta): the customary stand-in for a character JIS X 0208 lacks. */
const GETA = [0x22, 0x2e] as const;

let table: Map<string, readonly [number, number]> | undefined;

function jisTable(): Map<string, readonly [number, number]> {
  if (table) return table;
  const decoder = new TextDecoder('iso-2022-jp');
  const map = new Map<string, readonly [number, number]>();
  for (let hi = 0x21; hi <= 0x7e; hi++) {
    for (let lo = 0x21; lo <= 0x7e; lo++) {
      const ch = decoder.decode(Buffer.from([0x1b, 0x24, 0x42, hi, lo, 0x1b, 0x28, 0x42]));
      if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, [hi, lo]);
    }
  }
  table = map;
  return map;
}

/** Half-width katakana are not in ISO-2022-JP: use their full-width forms (NFKC does exactly that). */
function widenKana(text: string): string {
  return text.replace(/[\uff61-\uff9f]+/g, (s) => s.normalize('NFKC'));
}

export function encodeIso2022jp(text: string): Buffer {
  const jis = jisTable();
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
