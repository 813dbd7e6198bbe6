import { open } from 'lmdb';
import { accessSync } from 'node:fs';
const mark = (t) => { try { accessSync('/nonexistent-kbx-' + t); } catch {} };
const root = open(process.argv[2], {});
const db = root.openDB({ name: 'x', keyEncoding: 'binary', encoding: 'binary' });
for (let i = 0; i < 5; i++) {
  mark('begin-' + i);
  db.transactionSync(() => { db.put(new Uint8Array([1, i]), new Uint8Array([i, 2, 3])); });
  mark('end-' + i);
}
const v = db.get(new Uint8Array([1, 3]));
console.log(v, v instanceof Uint8Array, v.length);
await root.close();
