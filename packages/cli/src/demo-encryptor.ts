import { Applier, Encryptor, MemoryRegistryStore, decodeEnvelope, decryptEnvelope, hasCode, ErrorCode, type Kek } from '@keyledger/core';
import { NODES, type DemoScenario, type LogEntry, type NodeName } from './demo-cluster.js';
import { type Colors, hex } from './output.js';

/** One node of the Encryptor part: its own store (a replica of the log) and its applier. */
interface Node {
  name: NodeName;
  store: MemoryRegistryStore;
  applier: Applier;
}

const text = (s: string) => new TextEncoder().encode(s);
const prefix = (sealed: Uint8Array) => Buffer.from(decodeEnvelope(sealed).nonce.subarray(0, 4)).toString('hex');
const count = (sealed: Uint8Array) =>
  decodeEnvelope(sealed)
    .nonce.subarray(4)
    .reduce((n, b) => n * 256 + b, 0);

/**
 * The demo's Encryptor part (docs/design.md, section 'Encryptor'): n1, n2 and n3 each hold a
 * replica of the demo log's bootstrap, rotation and cutovers, open an Encryptor, register their epoch through a shared log that continues the demo's,
 * encrypt, restart, and encrypt again under a fresh epoch. Returns the lines to print.
 */
export async function encryptorDemo(kek: Kek, scenario: DemoScenario, c: Colors): Promise<string[]> {
  // The demo log's own registrations stand for writer restarts that never happened on these
  // stores (no Encryptor bumped their epochs), so a store holding them would look restored and
  // refuse to open: the nodes replicate the keys and cutovers, and register through their Encryptors.
  const log: LogEntry[] = scenario.log.filter((e) => e.entry[0] !== 0x03);
  let next = (log.at(-1)?.index ?? 0n) + 1n; // the log is in index order
  const catchUp = async (node: Node) => {
    for (const e of log) if (e.index > node.applier.appliedIndex) await node.applier.applyEntry(e.entry, e.index);
  };
  const nodes: Node[] = [];
  for (const name of ['n1', 'n2', 'n3'] as const) {
    const store = new MemoryRegistryStore();
    const node = { name, store, applier: await Applier.open(store, { kek }) };
    await catchUp(node);
    nodes.push(node);
  }
  /** One process life of `node`: open, register through the log, seal `n` values. */
  const life = async (node: Node, n: number): Promise<Uint8Array[]> => {
    const enc = await Encryptor.open(node.applier, { nodeId: NODES[node.name], purpose: 'storage' });
    const index = next++;
    log.push({ index, entry: enc.registration() });
    const gate = enc.registered(index);
    for (const other of nodes) await catchUp(other);
    await gate;
    const sealed: Uint8Array[] = [];
    for (let i = 0; i < n; i++) sealed.push(await enc.encrypt(text(`value ${i} of ${node.name}`), text(`${node.name}/${i}`)));
    await enc.close();
    return sealed;
  };
  const lines = [c.bold('Encryptor: each node opens, registers its epoch through the log, encrypts, restarts, encrypts again')];
  let sample: Uint8Array | undefined;
  for (const node of nodes) {
    const before = await life(node, 3);
    await node.applier.close();
    node.applier = await Applier.open(node.store, { kek });
    const after = await life(node, 2);
    sample ??= after[0];
    const show = (s: Uint8Array[]) => `${prefix(s[0]!)} ‖ write_count ${count(s[0]!)}..${count(s.at(-1)!)}`;
    lines.push(`  ${node.name} ${c.dim(hex(NODES[node.name], 16))}  nonces ${show(before)}   restart → ${show(after)}`);
  }
  const reader = nodes[1]!;
  const opened = new TextDecoder().decode(await decryptEnvelope(reader.applier, sample!, { context: text('n1/0') }));
  let moved = 'accepted (wrong!)';
  try {
    await decryptEnvelope(reader.applier, sample!, { context: text('n1/1') });
  } catch (err) {
    if (hasCode(err, ErrorCode.INTEGRITY)) moved = 'refused with ERR_INTEGRITY';
    else throw err;
  }
  lines.push(`  n1's "${opened}" opens on n2's replica; under another record's context it is ${moved}`);
  lines.push(c.dim('  (nonce = node_id16 ‖ local_epoch ‖ write_count: each restart bumped the epoch durably before its first nonce)'));
  for (const node of nodes) await node.applier.close();
  return lines;
}
