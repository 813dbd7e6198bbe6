// The disk's raw rate of durable commits: write 64 bytes, fsync, repeat. No library can commit
// durably faster than this, one commit at a time.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { figure } from './stats.mjs';
import { dropDir, freshDir } from './tmpdir.mjs';

export function measureFsync(rounds, opsPerRound) {
  const dir = freshDir('fsync');
  const fd = openSync(join(dir, 'probe'), 'w');
  const buf = Buffer.alloc(64, 0x5a);
  const samples = [];
  try {
    // The first write allocates the block; it is not part of any round.
    writeSync(fd, buf, 0, 64, 0);
    fsyncSync(fd);
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (let i = 0; i < opsPerRound; i++) {
        writeSync(fd, buf, 0, 64, 0);
        fsyncSync(fd);
      }
      samples.push(opsPerRound / ((performance.now() - t0) / 1000));
    }
  } finally {
    closeSync(fd);
    dropDir(dir);
  }
  return figure(samples, 'ops/s');
}
