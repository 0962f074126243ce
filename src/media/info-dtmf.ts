// DTMF carried in SIP INFO bodies. Two formats are in the field:
//   application/dtmf-relay   "Signal=5\r\nDuration=160"   (Cisco style; some send Signal=10/11 for * and #)
//   application/dtmf         "5"
// Pure: a MediaSession's injectInfo() reads the body with it, so the SIP glue never learns these formats.
import { eventToKey, normaliseKey } from './dtmf.ts';

function toKey(raw: string): string | undefined {
  const v = raw.trim();
  if (/^\d{2}$/.test(v)) return eventToKey(Number(v));
  return normaliseKey(v);
}

export function parseInfoDtmf(contentType: string | undefined, body: string | Buffer | undefined): string | undefined {
  if (!contentType || body === undefined) return undefined;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (type === 'application/dtmf-relay') {
    for (const line of text.split(/\r?\n/)) {
      const m = /^\s*signal\s*=\s*(\S+)\s*$/i.exec(line);
      if (m) return toKey(m[1]!);
    }
    return undefined;
  }
  if (type === 'application/dtmf') return toKey(text);
  return undefined;
}
