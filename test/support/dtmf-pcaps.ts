// RFC 4733 key presses for SIPp, as a real phone sends them. sip-tester ships one capture
// per key (/usr/share/sip-tester/dtmf_2833_<d>.pcap), all from one recorded stream, and
// SIPp replays a capture byte for byte: pressing 1 twice sends the same sequence numbers
// and timestamp twice, which RFC 4733 receivers (FreeSWITCH, the built-in endpoint) rightly
// drop as duplicates. So before SIPp runs a scenario, every `play_pcap_audio` of a shipped
// DTMF capture is pointed at a copy made for that press, with sequence numbers and the
// event timestamp rising through the call. The copies go into a temp dir, never the repo.
//
// By hand: `npx tsx test/support/dtmf-pcaps.ts test/sipp/ivr-a-line.xml [DIR]` writes the
// scenario and its captures into DIR (default: a new temp dir) and prints the scenario's path.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SHIPPED_DTMF_DIR = '/usr/share/sip-tester';
const SHIPPED = /play_pcap_audio="\/usr\/share\/sip-tester\/(dtmf_2833_(?:\d|pound|star)\.pcap)"/g;

const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
const ETHERNET = 14;
/** Sequence numbers one press may use (the shipped captures use 8), and timestamp units between presses (1 s). */
const SEQ_PER_PRESS = 16;
const TS_PER_PRESS = 8000;
const FIRST_SEQ = 1000;
const FIRST_TS = 160_000;

/** Where the RTP header of each record starts, for a classic little-endian libpcap file of Ethernet/IPv4/UDP frames. */
function rtpOffsets(pcap: Buffer): number[] {
  if (pcap.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('not a little-endian libpcap file');
  const offsets: number[] = [];
  for (let at = PCAP_HEADER; at + RECORD_HEADER <= pcap.length; at += RECORD_HEADER + pcap.readUInt32LE(at + 8)) {
    const frame = at + RECORD_HEADER;
    const ihl = (pcap[frame + ETHERNET]! & 0x0f) * 4;
    offsets.push(frame + ETHERNET + ihl + 8);
  }
  return offsets;
}

/**
 * A copy of one shipped press as the `index`-th press of a call: its sequence numbers moved
 * to start at FIRST_SEQ + index·SEQ_PER_PRESS (keeping their steps, so the three end packets
 * stay one retransmitted packet) and its timestamp to FIRST_TS + index·TS_PER_PRESS.
 */
export function pressAt(shipped: Buffer, index: number): Buffer {
  const pcap = Buffer.from(shipped);
  const offsets = rtpOffsets(pcap);
  const firstSeq = pcap.readUInt16BE(offsets[0]! + 2);
  for (const rtp of offsets) {
    const seq = pcap.readUInt16BE(rtp + 2);
    pcap.writeUInt16BE((FIRST_SEQ + index * SEQ_PER_PRESS + ((seq - firstSeq) & 0xffff)) & 0xffff, rtp + 2);
    pcap.writeUInt32BE((FIRST_TS + index * TS_PER_PRESS) >>> 0, rtp + 4);
    // The UDP checksum covered the old bytes; 0 means "none" for IPv4 (SIPp rewrites the header anyway).
    pcap.writeUInt16BE(0, rtp - 2);
  }
  return pcap;
}

/**
 * The scenario SIPp should run for `scenarioFile`: itself when it plays no shipped DTMF
 * capture, else a copy in `dir` whose presses each play their own rising capture.
 */
export async function scenarioWithRisingDtmf(scenarioFile: string, dir: string): Promise<string> {
  const xml = await readFile(scenarioFile, 'utf8');
  const presses = [...xml.matchAll(SHIPPED)];
  if (presses.length === 0) return scenarioFile;
  const shipped = new Map<string, Buffer>();
  let index = 0;
  const parts: string[] = [];
  let last = 0;
  for (const m of presses) {
    const name = m[1]!;
    if (!shipped.has(name)) shipped.set(name, await readFile(path.join(SHIPPED_DTMF_DIR, name)));
    const file = path.join(dir, `press-${String(index).padStart(3, '0')}-${name}`);
    await writeFile(file, pressAt(shipped.get(name)!, index));
    parts.push(xml.slice(last, m.index), `play_pcap_audio="${file}"`);
    last = m.index! + m[0].length;
    index++;
  }
  parts.push(xml.slice(last));
  const out = path.join(dir, path.basename(scenarioFile));
  await writeFile(out, parts.join(''));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [scenario, dirArg] = process.argv.slice(2);
  if (!scenario) {
    console.error('usage: npx tsx test/support/dtmf-pcaps.ts SCENARIO.xml [DIR]');
    process.exit(2);
  }
  const dir = dirArg ?? (await mkdtemp(path.join(os.tmpdir(), 'chakushin-dtmf-')));
  console.log(await scenarioWithRisingDtmf(path.resolve(scenario), path.resolve(dir)));
}
