import { describe, expect, it } from 'vitest';
import { parse } from 'sdp-transform';
import { UnsupportedMediaError } from '../../src/media/port.ts';
import { negotiate } from '../../src/media/sdp.ts';

const offer = (mlines: string, extra = '') =>
  ['v=0', 'o=caller 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', mlines, extra].filter(Boolean).join('\r\n') + '\r\n';

const AUDIO = 'm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20';

function refusal(sdp: string): string {
  try {
    negotiate(sdp);
  } catch (err) {
    expect(err).toBeInstanceOf(UnsupportedMediaError);
    return (err as UnsupportedMediaError).warning;
  }
  throw new Error('offer was accepted');
}

describe('SDP offer/answer', () => {
  it('answers PCMU with the caller telephone-event payload type', () => {
    const n = negotiate(offer(AUDIO));
    expect(n.codec).toEqual({ name: 'PCMU', payloadType: 0, law: 'ulaw' });
    expect(n.telephoneEventPt).toBe(101);
    expect(n.remote).toEqual({ address: '192.0.2.10', port: 40000 });
    const answer = parse(n.answer({ address: '127.0.0.1', port: 20000 }));
    expect(answer.connection?.ip).toBe('127.0.0.1');
    expect(answer.media[0]).toMatchObject({ type: 'audio', port: 20000, protocol: 'RTP/AVP', payloads: '0 101', direction: 'sendrecv', ptime: 20 });
    expect(answer.media[0]!.fmtp).toEqual([{ payload: 101, config: '0-15' }]);
  });

  it("honours the caller's codec order and dynamic telephone-event type", () => {
    const n = negotiate(offer('m=audio 40000 RTP/AVP 18 8 0 96\r\na=rtpmap:18 G729/8000\r\na=rtpmap:96 telephone-event/8000'));
    expect(n.codec.name).toBe('PCMA');
    expect(n.telephoneEventPt).toBe(96);
    expect(parse(n.answer({ address: '127.0.0.1', port: 1 })).media[0]!.payloads).toBe('8 96');
  });

  it('accepts static payload types without rtpmap and works without telephone-event', () => {
    const n = negotiate(offer('m=audio 40000 RTP/AVP 8'));
    expect(n.codec.name).toBe('PCMA');
    expect(n.telephoneEventPt).toBeUndefined();
    expect(String(parse(n.answer({ address: '127.0.0.1', port: 1 })).media[0]!.payloads)).toBe('8');
  });

  it('media-level connection and direction win; the answer mirrors the direction', () => {
    const n = negotiate(offer(`${AUDIO}\r\nc=IN IP4 192.0.2.99\r\na=sendonly`));
    expect(n.remote.address).toBe('192.0.2.99');
    expect(n.direction).toBe('recvonly');
  });

  it('rejects the video stream of an audio+video offer with port 0 and keeps m-line order', () => {
    const n = negotiate(offer(`m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n${AUDIO}`));
    const answer = parse(n.answer({ address: '127.0.0.1', port: 20000 }));
    expect(answer.media.map((m) => [m.type, m.port])).toEqual([
      ['video', 0],
      ['audio', 20000],
    ]);
  });

  it.each([
    ['no supported codec', offer('m=audio 40000 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\na=rtpmap:9 G722/8000'), /^305 /],
    ['wideband only (高音質電話)', offer('m=audio 40000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000'), /^305 /],
    ['video only', offer('m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000'), /^304 .*video/],
    ['data only (データコネクト)', offer('m=application 40004 TCP/BFCP *'), /^304 .*application/],
    ['audio stream rejected by the caller', offer('m=audio 0 RTP/AVP 0'), /^304 /],
    ['SRTP', offer('m=audio 40000 RTP/SAVP 0'), /^305 .*RTP\/SAVP/],
    ['no media at all', offer(''), /^304 /],
    ['garbage', 'hello', /^304 /],
  ])('refuses %s', (_name, sdp, warning) => {
    expect(refusal(sdp)).toMatch(warning);
  });

  const at = (address: string, mline = AUDIO) =>
    ['v=0', 'o=caller 1 1 IN IP4 192.0.2.10', 's=-', `c=IN IP4 ${address}`, 't=0 0', mline].join('\r\n') + '\r\n';

  it.each([
    ['a multicast address', at('224.2.1.1'), '301 chakushin "multicast audio address 224.2.1.1 not served"'],
    ['a multicast address with a TTL', at('239.255.0.1/127'), '301 chakushin "audio address 239.255.0.1/127 is not a numeric IPv4 address"'],
    ['the broadcast address', at('255.255.255.255'), '301 chakushin "audio address 255.255.255.255 is broadcast or reserved"'],
    ['a reserved (class E) address', at('240.0.0.1'), '301 chakushin "audio address 240.0.0.1 is broadcast or reserved"'],
    ['an address of "this network" other than 0.0.0.0', at('0.1.2.3'), '301 chakushin "audio address 0.1.2.3 is not a host address"'],
    ['a host name (never resolved for media)', at('phone.example.jp'), '301 chakushin "audio address phone.example.jp is not a numeric IPv4 address"'],
    ['0.0.0.0 when the caller would receive (sendrecv)', at('0.0.0.0'), '301 chakushin "audio address 0.0.0.0 cannot receive the guidance"'],
    ['0.0.0.0 with recvonly', at('0.0.0.0', `${AUDIO}\r\na=recvonly`), '301 chakushin "audio address 0.0.0.0 cannot receive the guidance"'],
    ['a port above 65535', offer(AUDIO.replace('40000', '70000')), '301 chakushin "audio port 70000 out of range"'],
    ['a multicast media-level address under a unicast session address', offer(`${AUDIO}\r\nc=IN IP4 233.252.0.1`), '301 chakushin "multicast audio address 233.252.0.1 not served"'],
  ])('refuses %s with 301', (_name, sdp, warning) => {
    expect(refusal(sdp)).toBe(warning);
  });

  it.each(['sendonly', 'inactive'])('accepts 0.0.0.0 as hold with %s: nothing will be sent there', (direction) => {
    const n = negotiate(at('0.0.0.0', `${AUDIO}\r\na=${direction}`));
    expect(n.remote).toEqual({ address: '0.0.0.0', port: 40000 });
    expect(n.direction).toBe(direction === 'sendonly' ? 'recvonly' : 'inactive');
  });

  it('accepts the highest port and an ordinary unicast address', () => {
    expect(negotiate(at('198.51.100.7', AUDIO.replace('40000', '65535'))).remote).toEqual({ address: '198.51.100.7', port: 65535 });
  });
});
