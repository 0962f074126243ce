import { describe, expect, it } from 'vitest';
import { parseInfoDtmf } from '../../src/media/info-dtmf.ts';

describe('parseInfoDtmf', () => {
  it.each([
    ['application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n', '5'],
    ['application/dtmf-relay', 'Signal= #\r\nDuration= 250\r\n', '#'],
    ['Application/DTMF-Relay; charset=utf-8', 'signal=*\nduration=100', '*'],
    ['application/dtmf-relay', 'Duration=160\r\nSignal=10\r\n', '*'],
    ['application/dtmf-relay', 'Signal=11', '#'],
    ['application/dtmf-relay', 'Signal=a', 'A'],
    ['application/dtmf', '7', '7'],
    ['application/dtmf', '  0\r\n', '0'],
    ['application/dtmf', '11', '#'],
  ])('%s %j → %s', (type, body, key) => {
    expect(parseInfoDtmf(type, body)).toBe(key);
    expect(parseInfoDtmf(type, Buffer.from(body))).toBe(key);
  });

  it.each([
    ['application/dtmf-relay', 'Duration=160'],
    ['application/dtmf-relay', 'Signal=E'],
    ['application/dtmf-relay', 'Signal=55'],
    ['application/dtmf-relay', 'Signal=12345'],
    ['application/dtmf-relay', ''],
    ['application/dtmf', 'Signal=5'],
    ['application/dtmf', '99'],
    ['application/media_control+xml', '<media_control/>'],
    ['text/plain', '5'],
  ])('%s %j → nothing', (type, body) => {
    expect(parseInfoDtmf(type, body)).toBeUndefined();
  });

  it('needs a content type and a body', () => {
    expect(parseInfoDtmf(undefined, 'Signal=5')).toBeUndefined();
    expect(parseInfoDtmf('application/dtmf', undefined)).toBeUndefined();
  });
});
