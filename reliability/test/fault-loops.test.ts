import { describe, expect, it } from 'vitest';
import {
  Applier,
  ErrorCode,
  MemoryRegistryStore,
  encodeState,
  hasCode,
  isHalt,
  isKeyledgerError,
  registryDekPrefix,
  type RegistryStore,
} from '@keyledger/core';
import { FaultyStore, type FaultOperation } from '@keyledger/core/conformance';
import { FIXED_CLOCK } from '../src/reference.js';
import { buildSequence, type Sequence, type Step } from '../src/sequence.js';
import { errorText, leaks } from '../src/key-hygiene.js';
import { ADAPTERS, openStore } from '../src/stores.js';
import { rowsOf, tempDirs } from './support.js';

// SQLite-style I/O-error loops: for N = 1, 2, … fail the Nth get, write or scan (once, or from
// then on until cleared) while a complete entry sequence runs, until N is past the last call.

const freshDir = tempDirs('faults');
const OPERATIONS: FaultOperation[] = ['get', 'write', 'scan'];
const MODES = ['once', 'forever'] as const;

async function run(applier: Applier, store: RegistryStore, step: Step): Promise<void> {
  if ('entry' in step) {
    await applier.applyEntry(step.entry, step.index);
  } else {
    for await (const row of store.scan(registryDekPrefix(step.inspectDek))) void row;
  }
}

function hasBackendCause(err: unknown): boolean {
  for (let cur = err, i = 0; typeof cur === 'object' && cur !== null && i < 16; cur = (cur as { cause?: unknown }).cause, i++) {
    if ((cur as { code?: unknown }).code === 'EIO') return true;
  }
  return false;
}

async function snapshot(applier: Applier, inner: RegistryStore): Promise<string> {
  return JSON.stringify([await rowsOf(inner), Buffer.from(encodeState(applier.state)).toString('hex'), applier.keyIds()]);
}

async function referenceRows(seq: Sequence): Promise<string> {
  const store = new MemoryRegistryStore();
  const applier = await Applier.open(store, { kek: seq.kek, now: FIXED_CLOCK, onRaftKeyInstalled: () => undefined });
  for (const step of seq.steps) await run(applier, store, step);
  return rowsOf(store);
}

const summary: string[] = [];

describe.each(ADAPTERS)('fault loops on %s', (adapter) => {
  it.each(OPERATIONS.flatMap((op) => MODES.map((mode) => [op, mode] as const)))(
    'the Nth %s fails (%s): halts with ERR_STORE_IO, changes nothing, and the same entry then applies',
    async (operation, mode) => {
      const seq = await buildSequence();
      const expected = await referenceRows(seq);
      let points = 0;
      for (let nth = 1; ; nth++) {
        const inner = await openStore(adapter, freshDir());
        const faulty = new FaultyStore(inner);
        // Faults while opening are open.test.ts's; here they start with the first step.
        const applier = await Applier.open(faulty, { kek: seq.kek, now: FIXED_CLOCK, onRaftKeyInstalled: () => undefined });
        faulty.plan = { operation, nth: faulty.calls[operation] + nth, mode };
        let fired = false;
        for (const step of seq.steps) {
          const before = await snapshot(applier, inner);
          try {
            await run(applier, faulty, step);
            continue;
          } catch (err) {
            expect(isKeyledgerError(err), `${step.what}: only KeyledgerErrors escape, got ${String(err)}`).toBe(true);
            expect(hasCode(err, ErrorCode.STORE_IO), `${step.what}: ${String(err)}`).toBe(true);
            expect(hasBackendCause(err), `${step.what}: the backend's error is attached as cause`).toBe(true);
            if ('entry' in step) expect(isHalt(err), `${step.what}: a failed apply is a halt`).toBe(true);
            expect(leaks(errorText(err), seq.secrets), 'key material in the error').toBeUndefined();
            expect(await snapshot(applier, inner), `${step.what}: state, keystore and rows unchanged by the fault`).toBe(before);
            fired = true;
          }
          if (mode === 'forever') {
            // Still failing: a retry fails the same way and still changes nothing.
            const again = await run(applier, faulty, step).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(hasCode(again, ErrorCode.STORE_IO), `${step.what}: a persistent fault keeps failing`).toBe(true);
            expect(await snapshot(applier, inner)).toBe(before);
          }
          // The fault clears; the same step must now go through on the same applier (not wedged).
          faulty.plan = undefined;
          await run(applier, faulty, step);
        }
        expect(await rowsOf(inner), 'after the fault, the sequence ends where a run without faults ends').toBe(expected);
        await applier.close();
        await inner.close();
        if (!fired) break;
        points++;
      }
      expect(points, `no ${operation} fault point was reached`).toBeGreaterThan(0);
      summary.push(`${adapter} ${operation} ${mode}: ${points} fault points`);
      console.log(`[faults] ${adapter} ${operation} ${mode}: ${points} fault points, each halted cleanly and recovered`);
    },
  );
});
