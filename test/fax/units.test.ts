// UDPTL framing and redundancy recovery (T.38 §9.1), the T.38 SDP answer, and the FAXお知らせメール text.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { formatFaxMail } from '../../src/mail/format.ts';
import { answerT38, isT38Offer, parseT38Offer } from '../../src/media/fax/t38-sdp.ts';
import { decodeUdptl, encodeUdptl, UdptlReceiver, UdptlSender } from '../../src/media/fax/udptl.ts';
import { faxViewUrl } from '../../src/notify/fax-record.ts';

const ifp = (n: number, len = 3) => Uint8Array.from({ length: len }, (_, i) => (n + i) & 0xff);

describe('UDPTL', () => {
  it('encodes seq, primary and secondaries in aligned PER, lengths of 1 and 2 octets', () => {
    const big = ifp(7, 300);
    const pkt = encodeUdptl(0x1234, big, [ifp(1), ifp(2)]);
    expect([...pkt.subarray(0, 4)]).toEqual([0x12, 0x34, 0x81, 0x2c]);
    const back = decodeUdptl(pkt);
    expect(back.seq).toBe(0x1234);
    expect([...back.primary]).toEqual([...big]);
    expect(back.secondary.map((s) => [...s])).toEqual([[...ifp(1)], [...ifp(2)]]);
    expect(() => decodeUdptl(pkt.subarray(0, 10))).toThrow(/truncated/);
  });

  it('rebuilds lost packets from the next datagram’s redundancy, in order, once', () => {
    const tx = new UdptlSender(3);
    const rx = new UdptlReceiver();
    const wire = Array.from({ length: 8 }, (_, i) => tx.packet(ifp(i * 10)));
    const got: number[] = [];
    for (const i of [0, 1, 4, 5, 5, 3, 6, 7]) for (const p of rx.receive(wire[i]!)) got.push(p.seq);
    // 2 and 3 lost, rebuilt from 4; the repeated 5 and the late 3 are dropped.
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('follows the sequence number through its 65535 → 0 wrap', () => {
    const rx = new UdptlReceiver();
    const seqs = [65534, 65535, 0, 1].flatMap((s) => rx.receive(encodeUdptl(s, ifp(s), [])).map((p) => p.seq));
    expect(seqs).toEqual([65534, 65535, 0, 1]);
  });
});

describe('T.38 SDP', () => {
  const offer = [
    'v=0', 'o=gw 1 2 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=image 40000 udptl t38',
    'a=T38FaxVersion:0', 'a=T38MaxBitRate:14400', 'a=T38FaxRateManagement:localTCF', 'a=T38FaxMaxDatagram:200', 'a=T38FaxUdpEC:t38UDPFEC', '',
  ].join('\r\n');

  it('reads the offer and answers with its rate management, a datagram no larger, and redundancy', () => {
    expect(isT38Offer(offer)).toBe(true);
    const o = parseT38Offer(offer);
    expect(o).toMatchObject({ remote: { address: '192.0.2.5', port: 40000 }, rateManagement: 'localTCF', maxDatagram: 200 });
    const a = answerT38(o, { address: '127.0.0.1', port: 20002 });
    expect(a).toContain('m=image 20002 udptl t38\r\n');
    expect(a).toContain('a=T38FaxRateManagement:localTCF\r\n');
    expect(a).toContain('a=T38FaxMaxDatagram:200\r\n');
    expect(a).toContain('a=T38FaxUdpEC:t38UDPRedundancy\r\n');
  });

  it('an audio offer is not a T.38 switch; a T.38 stream without a usable address is refused', () => {
    expect(isT38Offer(offer.replace('m=image 40000 udptl t38', 'm=audio 40000 RTP/AVP 0'))).toBe(false);
    expect(() => parseT38Offer(offer.replace('c=IN IP4 192.0.2.5', 'c=IN IP4 0.0.0.0'))).toThrow(/IPv4/);
  });
});

describe('FAXお知らせメール', () => {
  const config = parseConfig({ site: { publicUrl: 'https://settings.example.jp' } });
  const facts = {
    calledNumber: '0611113333', receivedAt: new Date('2026-11-22T00:15:03Z'), callerNumber: null, absentReason: '非通知' as const,
    pages: 1, result: 'partial' as const, t30Reason: 'The call dropped prematurely', viewUrl: '',
  };

  it('pattern A: the 着信 mail’s labels, 受信結果, the link to 受信FAX内容確認, the service’s footer', () => {
    const m = formatFaxMail({ ...facts, viewUrl: faxViewUrl(config, 'A', facts.calledNumber) }, 'A', config.mail.footers.A.west);
    expect(m.subject).toBe('FAX受信通知（0611113333着）');
    expect(m.body).toBe([
      '受信日時:2026/11/22 09:15:03', '発信電話番号:', '非通知理由:非通知', 'ページ数:1', '受信結果:途中で切断されました（1ページ受信）', '',
      '受信したFAXは、ひかり電話設定サイトの「受信FAX内容確認」でご覧いただけます。', 'https://settings.example.jp/fax-mail/0611113333/received', '',
      '------', 'NTT西日本　「FAXお知らせメール」', '※各種設定は、ひかり電話設定サイトから行ってください。', 'https://www.hikari.ntt-west.net',
      '※本メールは送信専用のため返信できません。', '',
    ].join('\n'));
  });

  it('pattern B: 発信者通知番号, the legacy site under its prefix, 実施してください', () => {
    const m = formatFaxMail({ ...facts, result: 'failed', pages: 0, viewUrl: faxViewUrl(config, 'B', facts.calledNumber) }, 'B', config.mail.footers.B.east);
    expect(m.body).toContain('発信者通知番号:\n');
    expect(m.body).toContain('受信結果:受信できませんでした（The call dropped prematurely）');
    expect(m.body).toContain('https://settings.example.jp/legacy/fax-mail/0611113333/received');
    expect(m.body).toContain('※各種設定は、サービス設定ホームページから実施してください。');
  });
});
