import { describe, expect, it } from 'vitest';
import { decode, frame, response, sentOk, sipMessage, WireFramer } from '../../src/sip-engine/wire.ts';

describe('drachtio wire codec', () => {
  it('frames with the UTF-8 byte length and decodes across chunk boundaries', () => {
    const text = 'id1|sip|||\r\nINVITE sip:あ@x SIP/2.0\r\n\r\n';
    const framed = Buffer.concat([frame(text), frame('id2|ping')]);
    expect(framed.toString('latin1').startsWith(`${Buffer.byteLength(text)}#`)).toBe(true);
    const f = new WireFramer();
    const out: string[] = [];
    for (let i = 0; i < framed.length; i += 3) out.push(...f.push(framed.subarray(i, i + 3)));
    expect(out).toEqual([text, 'id2|ping']);
  });

  it('rejects a stream without a length specifier', () => {
    expect(() => new WireFramer().push(Buffer.from('hello|ping|'))).toThrow();
    expect(() => new WireFramer().push(Buffer.from('12x#abc'))).toThrow();
  });

  it('splits leader tokens from the SIP text', () => {
    const m = decode('abc|sip|txn|dlg\r\nBYE sip:x SIP/2.0\r\n\r\n');
    expect(m).toEqual({ msgId: 'abc', type: 'sip', tokens: ['txn', 'dlg'], sip: 'BYE sip:x SIP/2.0\r\n\r\n' });
  });

  it('puts sip-message tokens where drachtio-srf reads them', () => {
    const text = sipMessage({ source: 'network', bytes: 12, protocol: 'udp', address: '192.0.2.1', port: 5062, time: '01:02:03.000004' }, 'T', 'D', 'X', { address: '127.0.0.1', port: 5060 });
    const token = text.slice(0, text.indexOf('\r\n')).split('|');
    // drachtio-agent.js: token[2] source, [4] protocol, [5] address, [6] port, [7] time, [8] txn, [9] dialog, [10..11] receivedOn
    expect(token.slice(1)).toEqual(['sip', 'network', '12', 'udp', '192.0.2.1', '5062', '01:02:03.000004', 'T', 'D', '127.0.0.1', '5060', '']);
  });

  it('answers requests and responses with OK and meta at the positions srf reads', () => {
    const meta = { source: 'application' as const, bytes: 3, protocol: 'tcp' as const, address: '192.0.2.9', port: 5080, time: 't' };
    const req = sentOk('M', meta, 'TX', undefined, 'SIP').split('\r\n')[0]?.split('|') ?? [];
    // srf _makeRequest: token.slice(3) → [0] OK, [3] protocol, [4] address, [5] port, [7] transactionId
    expect(req.slice(3)).toEqual(['OK', 'application', '3', 'tcp', '192.0.2.9', '5080', 't', 'TX', 'Msg sent:', '']);
    const res = sentOk('M', meta, 'TX', 'DLG', 'SIP').split('\r\n')[0]?.split('|') ?? [];
    // srf sendResponse meta: token[10] transactionId, token[11] dialogId
    expect(res[10]).toBe('TX');
    expect(res[11]).toBe('DLG');
    expect(response('M', false, ['incorrect secret']).split('|').slice(1)).toEqual(['response', 'M', 'NO', 'incorrect secret']);
  });
});
