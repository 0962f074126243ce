import { describe, expect, it } from 'vitest';
import { DigitCollector } from '../../src/media/collector.ts';
import type { CollectOptions } from '../../src/media/port.ts';

const eight: CollectOptions = {
  max: 8,
  terminators: ['#'],
  dropAfterMax: { keys: ['#'], withinMs: 1500 },
  firstDigitTimeoutMs: 60_000,
  interDigitTimeoutMs: 60_000,
};

/** A collector on a clock the test moves by hand. */
function collector() {
  let now = 0;
  const c = new DigitCollector(() => now);
  const heard: string[] = [];
  c.onDigit((d) => heard.push(d));
  return { c, heard, type: (keys: string) => [...keys].forEach((k) => c.push(k, 'rfc4733')), wait: (ms: number) => (now += ms) };
}

describe('DigitCollector', () => {
  it('ends an entry at max at once', async () => {
    const { c, type } = collector();
    const entry = c.collect(eight);
    type('24681357');
    expect(await entry).toEqual({ digits: '24681357', reason: 'max' });
  });

  it('drops a # pressed within the window after a max entry, unheard by listeners (no barge-in)', async () => {
    const { c, heard, type, wait } = collector();
    const entry = c.collect(eight);
    type('24681357');
    await entry;
    wait(1500);
    type('#');
    expect(c.hasBuffered()).toBe(false);
    expect(heard.join('')).toBe('24681357');
    const next = c.collect(eight);
    type('24681357');
    expect(await next).toEqual({ digits: '24681357', reason: 'max' });
  });

  it('drops a # already buffered right behind the entry (typed in one burst)', async () => {
    const { c, type } = collector();
    type('24681357#1');
    expect(await c.collect(eight)).toEqual({ digits: '24681357', reason: 'max' });
    const next = c.collect(eight);
    type('3579246');
    expect(await next).toEqual({ digits: '13579246', reason: 'max' });
  });

  it('keeps a # pressed after the window, and any other key typed ahead', async () => {
    const late = collector();
    const first = late.c.collect(eight);
    late.type('24681357');
    await first;
    late.wait(1501);
    late.type('#');
    expect(await late.c.collect(eight)).toEqual({ digits: '', terminator: '#', reason: 'terminator' });

    const ahead = collector();
    const entry = ahead.c.collect(eight);
    ahead.type('24681357');
    await entry;
    ahead.type('1#');
    expect(await ahead.c.collect(eight)).toEqual({ digits: '1', terminator: '#', reason: 'terminator' });
  });

  it('drops only the first key after the entry', async () => {
    const { c, type } = collector();
    const entry = c.collect(eight);
    type('24681357');
    await entry;
    type('##');
    expect(await c.collect(eight)).toEqual({ digits: '', terminator: '#', reason: 'terminator' });
  });

  it('drops nothing after an entry that ended on a terminator or without dropAfterMax', async () => {
    const hash = collector();
    hash.type('1234#');
    expect(await hash.c.collect(eight)).toEqual({ digits: '1234', terminator: '#', reason: 'terminator' });
    hash.type('#');
    expect(hash.c.hasBuffered()).toBe(true);

    const plain = collector();
    plain.type('12345678#');
    const { dropAfterMax: _, ...noDrop } = eight;
    expect(await plain.c.collect(noDrop)).toEqual({ digits: '12345678', reason: 'max' });
    expect(plain.c.hasBuffered()).toBe(true);
  });

  it('refuses max below 1', async () => {
    await expect(collector().c.collect({ ...eight, max: 0 })).rejects.toThrow(RangeError);
  });
});
