// One keyledger node on etcd: `node examples/node.mjs 127.0.0.1:2379 0xa1 ./node-a`
// Run it with another node id and directory in a second terminal: both follow one log.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileKek } from '@keyledger/core';
import { EtcdLedger } from '@keyledger/etcd';
import { SqliteRegistryStore } from '@keyledger/sqlite';

const [hosts = '127.0.0.1:2379', nodeId = '0xa1', dir = './node-a'] = process.argv.slice(2);
mkdirSync(dir, { recursive: true, mode: 0o700 });
// Every node of a ledger shares one KEK: create it once (`keyledger keygen kek.bin`), copy it to each node.
const kek = await FileKek.open(process.env.KEYLEDGER_KEK ?? 'kek.bin');
const store = await SqliteRegistryStore.open(join(dir, 'keyledger.db'));
const node = await EtcdLedger.start({ etcd: { hosts: hosts.split(',') }, prefix: 'keyledger/example', store, kek, nodeId: BigInt(nodeId) });
const context = new TextEncoder().encode('users/42/email'); // the record's key: a value moved elsewhere will not decrypt
const sealed = await node.encrypt(new TextEncoder().encode('ada@example.org'), context);
console.log(`node ${nodeId}: applied ${node.appliedIndex}, DEK ${node.encryptor.dekId}, epoch ${node.encryptor.epoch}`);
console.log(`sealed ${sealed.length} bytes, opens to: ${new TextDecoder().decode(await node.decrypt(sealed, context))}`);
await node.close();
await store.close();
