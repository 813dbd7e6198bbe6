/** Opens a store and holds it until killed: the other process in the two-process tests. argv: <store> <dir> */
import { openStore, isStoreName } from '../stores.js';

const [name, dir] = process.argv.slice(2);
if (!name || !isStoreName(name) || !dir) throw new TypeError('usage: hold-store <store> <dir>');
const store = await openStore(name, dir);
// A read, so that a store that takes its locks lazily has taken them.
for await (const row of store.scan(new Uint8Array(0))) void row;
process.stdout.write('holding\n');
setInterval(() => undefined, 1 << 30);
