import { ClassicLevel } from 'classic-level';
import { Level } from 'level';
import { Applier } from '@keyledger/core';
import { LevelRegistryStore } from '@keyledger/level';
import { mkdtempSync, rmSync } from 'node:fs';
import { SlotAllocator, prepareRound } from './workload.mjs';
const base = mkdtempSync('/tmp/kb-lv-');
const db = new Level(base + '/k');
await db.open();
const store = new LevelRegistryStore(db, { closeHandle: true });
const applier = await Applier.open(store);
const raw = new ClassicLevel(base + '/r', { keyEncoding: 'buffer', valueEncoding: 'buffer' });
await raw.open();
let marks = [];
for (const proto of new Set([Object.getPrototypeOf(Object.getPrototypeOf(db)), Object.getPrototypeOf(raw)])) {
  for (const name of ['_get', '_batch', '_put', '_getMany']) {
    const o = proto[name];
    if (!o) continue;
    proto[name] = function (...a) {
      marks.push([name + '<', performance.now()]);
      const p = o.apply(this, a);
      return p.then((v) => {
        marks.push([name + '>', performance.now()]);
        return v;
      });
    };
  }
}
const al = new SlotAllocator(),
  al2 = new SlotAllocator();
const seg = {},
  segR = {};
let count = 0;
const SYNC = { sync: true };
for (let c = 0; c < 150; c++) {
  const r = prepareRound(al.take(10));
  for (const es of r.entries)
    for (const e of es) {
      marks = [['start', performance.now()]];
      await applier.applyEntry(e);
      marks.push(['end', performance.now()]);
      if (c < 10) continue;
      count++;
      for (let i = 1; i < marks.length; i++) {
        const k = marks[i - 1][0] + '→' + marks[i][0];
        seg[k] = (seg[k] ?? 0) + marks[i][1] - marks[i - 1][1];
      }
    }
  const r2 = prepareRound(al2.take(10));
  for (const rows of r2.rows)
    for (let i = 0; i < r2.keys.length; i++) {
      marks = [['start', performance.now()]];
      await raw.get(r2.keys[i]);
      await raw.put(r2.keys[i], rows[i], SYNC);
      marks.push(['end', performance.now()]);
      if (c < 10) continue;
      for (let i = 1; i < marks.length; i++) {
        const k = marks[i - 1][0] + '→' + marks[i][0];
        segR[k] = (segR[k] ?? 0) + marks[i][1] - marks[i - 1][1];
      }
    }
}
console.log('keyledger');
for (const k in seg) console.log(' ', k.padEnd(24), ((seg[k] * 1000) / count).toFixed(1), 'µs');
console.log('raw');
for (const k in segR) console.log(' ', k.padEnd(24), ((segR[k] * 1000) / count).toFixed(1), 'µs');
await applier.close();
await store.close();
await raw.close();
rmSync(base, { recursive: true });
