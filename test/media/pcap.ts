// Reads the UDP payloads out of a classic libpcap file (Ethernet/IPv4), e.g. the
// RFC 4733 captures shipped with sip-tester.
import { readFileSync } from 'node:fs';

export function udpPayloads(file: string | Buffer): Buffer[] {
  const data = typeof file === 'string' ? readFileSync(file) : file;
  const out: Buffer[] = [];
  let offset = 24;
  while (offset + 16 <= data.length) {
    const length = data.readUInt32LE(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + length);
    offset += 16 + length;
    const ihl = (frame[14]! & 0x0f) * 4;
    out.push(frame.subarray(14 + ihl + 8));
  }
  return out;
}

export const DTMF_PCAP_DIR = '/usr/share/sip-tester';
export const pcapName = (key: string) => `${DTMF_PCAP_DIR}/dtmf_2833_${key === '#' ? 'pound' : key === '*' ? 'star' : key}.pcap`;
