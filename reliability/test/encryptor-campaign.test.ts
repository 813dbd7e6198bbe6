import { describe, expect, it } from 'vitest';
import { describeEncryptorReport, runEncryptorCampaign } from '../src/encryptor-campaign.js';
import { ADAPTERS } from '../src/stores.js';
import { tempDirs } from './support.js';

// Quick versions of `pnpm --filter @keyledger/reliability test:encryptor` (≥ 500 restarts per adapter
// and mode; figures in RELIABILITY.md): a node restarted under SIGKILL and power cuts, inside
// Encryptor.open included, never logs a (DEK, nonce) pair twice.
const work = tempDirs('encryptor');

describe.each(ADAPTERS)('Encryptor crash campaign on %s', (target) => {
  it('SIGKILL at random moments: 0 repeated nonces', async () => {
    const r = await runEncryptorCampaign({ target, restarts: 12, powerLoss: false, seed: 11, workDir: work() });
    console.log(describeEncryptorReport(r));
    expect(r.problems).toEqual([]);
    expect(r.nonces).toBeGreaterThan(0);
    expect(r.repeats).toBe(0);
  });

  it('power cut after SIGKILL (unsynced writes rolled back): 0 repeated nonces', async () => {
    const r = await runEncryptorCampaign({ target, restarts: 12, powerLoss: true, seed: 12, workDir: work() });
    console.log(describeEncryptorReport(r));
    expect(r.problems).toEqual([]);
    expect(r.nonces).toBeGreaterThan(0);
    expect(r.repeats).toBe(0);
  });
});

describe('the campaign has teeth', () => {
  it('a writer whose epoch bump is not synced reissues nonces after a power cut', async () => {
    const r = await runEncryptorCampaign({ target: 'naive-unsynced', restarts: 6, powerLoss: true, seed: 13, workDir: work() });
    console.log(describeEncryptorReport(r));
    expect(r.repeats, 'the nonce log must show the repeats an unsynced bump causes').toBeGreaterThan(0);
  });
});
