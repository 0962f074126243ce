// JIS X 0208: the characters an ISO-2022-JP mail (MAIL_CHARSET=iso-2022-jp, old handsets) can
// carry besides ASCII. The table is derived once from the runtime's own ISO-2022-JP decoder, so
// what the rules accept, what the mail encoder writes and what recipients decode agree by
// construction. Text fields that go into mails (契約者名, 拠点情報) are held to it.

let table: Map<string, readonly [number, number]> | undefined;

/** Each JIS X 0208 character → its two bytes (0x21–0x7e each). */
export function jisX0208Table(): ReadonlyMap<string, readonly [number, number]> {
  if (table) return table;
  const decoder = new TextDecoder('iso-2022-jp');
  const map = new Map<string, readonly [number, number]>();
  for (let hi = 0x21; hi <= 0x7e; hi++) {
    for (let lo = 0x21; lo <= 0x7e; lo++) {
      const ch = decoder.decode(new Uint8Array([0x1b, 0x24, 0x42, hi, lo, 0x1b, 0x28, 0x42]));
      if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, [hi, lo]);
    }
  }
  table = map;
  return map;
}
