import { describe, expect, it } from 'vitest';
import { describeReport, runCampaign } from '../src/campaign.js';
import { ADAPTERS, FAILING_CONTROLS } from '../src/stores.js';
import { tempDirs } from './support.js';

// Quick versions of `pnpm test:crash`: a 1,500-entry log, a few kills per adapter. The full
// campaign (20,000 entries, ≥ 1,000 kills per adapter) and its figures are in RELIABILITY.md.
const work = tempDirs('crash');
const ENTRIES = 1500;

describe.each(ADAPTERS)('crash campaign on %s', (store) => {
  it('SIGKILL at random moments: the store opens, nothing acknowledged is lost, nothing is half-applied, replay is byte-identical', async () => {
    const r = await runCampaign({ store, kills: 12, powerLoss: false, seed: 101, entries: ENTRIES, workDir: work() });
    console.log(describeReport(r));
    expect(r.problems).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.ok).toBe(true);
  });

  it("re-delivery: SIGKILL between keyledger's write and the host's ack, then re-deliver from before the last ack: 0 halts, 0 lost", async () => {
    const r = await runCampaign({ store, kills: 12, powerLoss: false, seed: 404, entries: ENTRIES, workDir: work(), redeliver: true });
    console.log(describeReport(r));
    expect(r.problems).toEqual([]);
    expect(r.redelivered).toBeGreaterThan(12);
    expect(r.redeliveryHalts).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.ok).toBe(true);
  });

  it('power cut after SIGKILL (unsynced writes rolled back): nothing acknowledged is lost', async () => {
    const r = await runCampaign({ store, kills: 8, powerLoss: true, seed: 202, entries: ENTRIES, workDir: work() });
    console.log(describeReport(r));
    expect(r.problems).toEqual([]);
    expect(r.lost).toBe(0);
    expect(r.ok).toBe(true);
  });
});

describe.each(FAILING_CONTROLS)('power-loss simulation has teeth: misconfigured %s', (store) => {
  it('loses acknowledged entries and is reported as failing', async () => {
    const r = await runCampaign({
      store,
      kills: 30,
      powerLoss: true,
      seed: 303,
      entries: ENTRIES,
      workDir: work(),
      stopOnLoss: true,
      killOnAck: true,
    });
    console.log(describeReport(r));
    expect(r.lost, 'a store that acknowledges before syncing must lose acknowledged entries under a power cut').toBeGreaterThan(0);
    expect(r.ok).toBe(false);
  });
});
