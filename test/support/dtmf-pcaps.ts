// RFC 4733 key presses for SIPp, as a real phone sends them. sip-tester ships one capture
// per key (/usr/share/sip-tester/dtmf_2833_<d>.pcap), all from one recorded stream, and
// SIPp replays a capture byte for byte: pressing 1 twice sends the same sequence numbers
// and timestamp twice, which RFC 4733 receivers (FreeSWITCH, the built-in endpoint) rightly
// drop as duplicates. So before SIPp runs a scenario, every `play_pcap_audio` of a shipped
// DTMF capture is pointed at a copy made for that press, with sequence numbers and the
// event timestamp rising through the call. The copies go into a temp dir, never the repo.
//
// By hand: `npm run sipp -- …` (test/sipp/run.ts) runs SIPp on such a copy. Or
// `npx tsx test/support/dtmf-pcaps.ts test/sipp/ivr-a-line.xml [DIR]` writes the scenario and its
// captures into DIR (made if missing; default: a new temp dir) and prints the scenario's path.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SHIPPED_DTMF_DIR = '/usr/share/sip-tester';

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

/** A press's records, timed from `atMs` after the start of the capture they are put into. */
function recordsAt(press: Buffer, atMs: number): Buffer {
  const out = Buffer.from(press.subarray(PCAP_HEADER));
  const firstUs = press.readUInt32LE(PCAP_HEADER) * 1e6 + press.readUInt32LE(PCAP_HEADER + 4);
  for (let at = 0; at + RECORD_HEADER <= out.length; at += RECORD_HEADER + out.readUInt32LE(at + 8)) {
    const us = out.readUInt32LE(at) * 1e6 + out.readUInt32LE(at + 4) - firstUs + atMs * 1000;
    out.writeUInt32LE(Math.floor(us / 1e6), at);
    out.writeUInt32LE(us % 1e6, at + 4);
  }
  return out;
}

/** `<nop><action><exec play_pcap_audio="…shipped…" /></action></nop>`, one press. */
const PRESS = String.raw`<nop>\s*<action>\s*<exec\s+play_pcap_audio="\/usr\/share\/sip-tester\/(dtmf_2833_(?:\d|pound|star)\.pcap)"\s*\/>\s*<\/action>\s*<\/nop>`;
const PAUSE = String.raw`<pause\s+milliseconds="(\d+)"\s*\/>`;
/** Presses separated only by pauses: one entry typed by the caller. */
const ENTRY = new RegExp(`${PRESS}(?:\\s*${PAUSE}\\s*${PRESS})*`, 'g');

/**
 * The scenario SIPp should run for `scenarioFile`: itself when it plays no shipped DTMF
 * capture, else a copy in `dir` where each entry (presses separated only by pauses) plays one
 * capture of its presses, each with its own rising sequence numbers and timestamp, spaced as
 * the pauses say, followed by one pause as long as those. One capture per entry, because SIPp
 * plays one capture per call at a time: a `play_pcap_audio` cancels the one still playing, so on
 * a busy machine a press whose thread had not sent yet was lost when the next one started.
 */
export async function scenarioWithRisingDtmf(scenarioFile: string, dir: string): Promise<string> {
  const xml = await readFile(scenarioFile, 'utf8');
  const entries = [...xml.matchAll(ENTRY)];
  if (entries.length === 0) return scenarioFile;
  await mkdir(dir, { recursive: true });
  const shipped = new Map<string, Buffer>();
  let index = 0;
  const parts: string[] = [];
  let last = 0;
  for (const [n, m] of entries.entries()) {
    const records: Buffer[] = [];
    let atMs = 0;
    let header: Buffer | undefined;
    // Alternating press names and pause lengths, in order.
    for (const step of m[0].matchAll(new RegExp(`${PRESS}|${PAUSE}`, 'g'))) {
      if (step[2] !== undefined) {
        atMs += Number(step[2]);
        continue;
      }
      const name = step[1]!;
      if (!shipped.has(name)) shipped.set(name, await readFile(path.join(SHIPPED_DTMF_DIR, name)));
      const press = pressAt(shipped.get(name)!, index++);
      header ??= press.subarray(0, PCAP_HEADER);
      records.push(recordsAt(press, atMs));
    }
    const file = path.join(dir, `entry-${String(n).padStart(3, '0')}.pcap`);
    await writeFile(file, Buffer.concat([header!, ...records]));
    parts.push(xml.slice(last, m.index), `<nop><action><exec play_pcap_audio="${file}" /></action></nop>`);
    if (atMs > 0) parts.push(`<pause milliseconds="${atMs}" />`);
    last = m.index! + m[0].length;
  }
  parts.push(xml.slice(last));
  if (parts.join('').includes(`play_pcap_audio="${SHIPPED_DTMF_DIR}/`)) throw new Error(`${scenarioFile}: a shipped DTMF capture outside <nop><action><exec …/></action></nop>`);
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
