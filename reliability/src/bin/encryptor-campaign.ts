/**
 * `pnpm --filter @keyledger/reliability test:encryptor -- [--restarts N] [--seed S] [--targets a,b]`:
 * the Encryptor crash campaign, SIGKILL and power cut, per adapter, plus the naive control.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeEncryptorReport, runEncryptorCampaign, type EncryptorCampaignTarget } from '../encryptor-campaign.js';

const { values } = parseArgs({
  options: {
    restarts: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '7' },
    targets: { type: 'string', default: 'lmdb,level,sqlite' },
  },
});
const restarts = Number(values.restarts);
const seed = Number(values.seed);
const work = mkdtempSync(join(tmpdir(), 'keyledger-encryptor-campaign-'));
let ok = true;
try {
  for (const target of values.targets.split(',') as EncryptorCampaignTarget[]) {
    for (const powerLoss of [false, true]) {
      const r = await runEncryptorCampaign({
        target,
        restarts,
        powerLoss,
        seed,
        workDir: join(work, `${target}-${powerLoss}`),
        progress: (l) => console.log(l),
      });
      console.log(describeEncryptorReport(r));
      for (const p of r.problems) console.log(`  problem: ${p}`);
      if (r.repeats > 0 || r.failures > 0) ok = false;
    }
  }
  // The control must show repeats, or the campaign could not see them.
  const control = await runEncryptorCampaign({
    target: 'naive-unsynced',
    restarts: Math.min(restarts, 200),
    powerLoss: true,
    seed,
    workDir: join(work, 'naive'),
  });
  console.log(describeEncryptorReport(control));
  if (control.repeats === 0) ok = false;
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
