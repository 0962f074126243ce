import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

let h: IvrHarness;
beforeAll(async () => {
  h = await startIvrHarness();
});
afterAll(async () => {
  await h?.stop();
});

describe('temp-password IVR, pattern A', () => {
  it('回線単位: sets the main number’s temp password', async () => {
    const { callId } = await h.call('ivr-a-line.xml', { caller: '0611112222', dialled: ACCESS.A_WEST });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'line', target: '0611112222', caller: '0611112222' });
    const status = await runCli(['temp-password', 'status', '0611112222'], { DATABASE_URL: h.db.url });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/realm=site unit=line state=valid/);
  });
});
