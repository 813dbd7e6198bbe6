import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FixtureModule, type FixtureExports, holdInChild, importFixture, openInChild, replayInChild } from './child-open.js';
import { CODES } from './codes.js';
import type { AdapterCaseOptions } from './describe-open-by-path.js';
import { bytes, rejectionCode } from './preamble.js';

const NODE = 0xbeefn;
const reg = (core: FixtureExports, localEpoch: number): Uint8Array => core.encodeRegistration({ dekId: 1, fullNodeId: NODE, localEpoch });

/**
 * One applier per store, for every adapter's `open(path)`: a second open — in this process or
 * another — is refused with `ERR_STORE_IN_USE` while the first holds the store, and the kernel
 * lets go of it when the holder dies, SIGKILL included: no stale lock is left behind.
 */
export function describeOneApplier(o: AdapterCaseOptions): void {
  const storePath = (dir: string): string => join(dir, o.shape === 'directory' ? 'store' : 'store.db');

  describe(`${o.name} › one applier per store`, () => {
    it('a second open in this process is refused with ERR_STORE_IN_USE until the first closes', async () => {
      const path = storePath(o.freshDir());
      const first = await o.open(path);
      await first.write([{ key: bytes(1), value: bytes(1) }]);
      expect(await rejectionCode(o.open(path))).toBe(CODES.STORE_IN_USE);
      expect(await rejectionCode(o.open(path, { create: false }))).toBe(CODES.STORE_IN_USE);
      // The refused opens disturbed nothing: the first store still writes and reads.
      await first.write([{ key: bytes(1), value: bytes(2) }]);
      expect(await first.get(bytes(1))).toEqual(bytes(2));
      await first.close();
      const second = await o.open(path);
      expect(await second.get(bytes(1))).toEqual(bytes(2));
      await second.close();
    });

    it('another process holding the store refuses this one and a third; after SIGKILL of the holder, open succeeds', async () => {
      const path = storePath(o.freshDir());
      const { held, child } = holdInChild(o.fixture, path);
      await held;
      expect(await rejectionCode(o.open(path))).toBe(CODES.STORE_IN_USE);
      expect(await openInChild(o.fixture, path)).toEqual({ refused: CODES.STORE_IN_USE });
      child.kill();
      expect((await child.done).killed).toBe(true);
      const after = await o.open(path);
      expect(await after.get(bytes(1))).toEqual(bytes(2));
      await after.close();
    });

    it('process A replaying epochs 1..N of a slot keeps process B, which would apply a higher epoch, out until A is done', async () => {
      const path = storePath(o.freshDir());
      const epochs = 400;
      let attempt: Promise<unknown> | undefined;
      const run = await replayInChild(o.fixture, path, epochs, () => {
        attempt = rejectionCode(o.open(path));
      });
      expect(run.lines.at(-1), run.stderr).toBe(`done ${epochs}`);
      expect(await attempt).toBe(CODES.STORE_IN_USE);
      // Once A has closed, B applies its higher epoch; the slot holds it, and A's old epochs now halt.
      const core = await importFixture(o.fixture);
      const store = await o.open(path);
      const applier = await core.Applier.open(store);
      await applier.applyEntry(reg(core, 50_000));
      const err = await applier.applyEntry(reg(core, epochs)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(core.hasCode(err, CODES.LOCAL_EPOCH_ROLLBACK)).toBe(true);
      await applier.close();
      const row = await store.get(core.registryKey(1, NODE));
      expect(row && core.decodeRegistryRow(row).lastSeenEpoch).toBe(50_000);
      await store.close();
    });
  });
}
