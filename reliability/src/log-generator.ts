import { createCipheriv } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Purpose, RotationSubtag, encodeBootstrap, encodeRegistration, encodeRotation, type Registration } from '@keyledger/core';
import { Rng } from './rng.js';

/** One entry of a generated log, with the raft index it is applied at (1-based, dense). */
export interface LogEntry {
  index: bigint;
  entry: Uint8Array;
  /** What the generator meant it to exercise, for reports; the applier never sees it. */
  intent: string;
}

export interface GeneratedLog {
  seed: number;
  /** The KEK the log's DEKs are wrapped with (test material only). */
  kek: Uint8Array;
  entries: LogEntry[];
}

/**
 * AES-256-GCM wrap in FileKek's layout (nonce ‖ ciphertext ‖ tag) with a nonce from the seeded
 * PRNG, so that a log is byte-for-byte reproducible from its seed. FileKek.wrap would draw a
 * random nonce; FileKek.unwrap reads both.
 */
export function wrapDeterministic(kek: Uint8Array, dek: Uint8Array, rng: Rng): Uint8Array {
  const nonce = rng.bytes(12);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  const ct = Buffer.concat([c.update(dek), c.final()]);
  return Uint8Array.from(Buffer.concat([nonce, ct, c.getAuthTag()]));
}

interface Slot {
  fullNodeId: bigint;
  last: number;
  /** The last registration entry that reached this slot: re-emitting it is an exact Raft replay. */
  lastEntry: Uint8Array;
}

/**
 * Generates a realistic replicated log: a bootstrap with a batch, registrations of new writers,
 * restarts that advance epochs, exact replays, DEK rotations (and their replays), both envelope
 * cutovers (and stale or repeated ones), and entries that must halt — epoch rollbacks, slot
 * collisions, tampered wrapped DEKs, conflicting re-bootstraps, malformed and reserved entries —
 * plus foreign opcodes the host owns. The generator tracks only enough state to aim entries;
 * what each entry actually does is decided by the reference run.
 */
export function generateLog(seed: number, count: number): GeneratedLog {
  const rng = new Rng(seed);
  const kek = rng.bytes(32);
  const entries: LogEntry[] = [];
  const push = (entry: Uint8Array, intent: string): void => {
    entries.push({ index: BigInt(entries.length + 1), entry, intent });
  };

  // 48 nodes with distinct 16-bit slots, and for a few of them an intruder sharing the slot.
  const nodes: bigint[] = [];
  const used = new Set<number>();
  while (nodes.length < 48) {
    const slot = rng.int(1, 0xfffe);
    if (used.has(slot)) continue;
    used.add(slot);
    nodes.push((BigInt(rng.int(1, 0x7fffffff)) << 32n) | (BigInt(rng.int(0, 0xffff)) << 16n) | BigInt(slot));
  }
  const intruder = (n: bigint): bigint => n ^ (BigInt(rng.int(1, 0xffffff)) << 24n);

  const slots = new Map<string, Slot>();
  const slotId = (dek: number, n: bigint): string => `${dek}/${n & 0xffffn}`;
  let nextDek = 1;
  const active = { storage: 0, raft: 0 };
  const rotations: Uint8Array[] = [];
  let bootstrapEntry: Uint8Array | undefined;
  let storageEnvelope = false;
  let raftCutover = false;

  const register = (dek: number, n: bigint, epoch: number): Uint8Array => {
    const entry = encodeRegistration({ dekId: dek, fullNodeId: n, localEpoch: epoch });
    const id = slotId(dek, n);
    const s = slots.get(id);
    if (!s) slots.set(id, { fullNodeId: n, last: epoch, lastEntry: entry });
    else if (s.fullNodeId === n && epoch > s.last) Object.assign(s, { last: epoch, lastEntry: entry });
    return entry;
  };

  // Bootstrap: storage DEK 1, raft DEK 2, half the nodes registered on both at epoch 1.
  {
    const storage = nextDek++;
    const raft = nextDek++;
    const batch: Registration[] = [];
    for (const n of nodes.slice(0, 24)) {
      for (const dek of [storage, raft]) {
        batch.push({ dekId: dek, fullNodeId: n, localEpoch: 1 });
        register(dek, n, 1);
      }
    }
    bootstrapEntry = encodeBootstrap({
      storageDekId: storage,
      storageWrapped: wrapDeterministic(kek, rng.bytes(32), rng),
      raftDekId: raft,
      raftWrapped: wrapDeterministic(kek, rng.bytes(32), rng),
      registrations: batch,
    });
    push(bootstrapEntry, 'bootstrap');
    Object.assign(active, { storage, raft });
  }

  const activeDeks = (): number[] => [active.storage, active.raft];
  const someSlot = (): Slot | undefined => {
    const all = [...slots.values()];
    return all.length === 0 ? undefined : rng.pick(all);
  };

  while (entries.length < count) {
    const r = rng.next();
    if (r < 0.4) {
      // A node restarts: its epoch advances on an active DEK (inserting when new to it).
      const n = rng.pick(nodes);
      const dek = rng.pick(activeDeks());
      const s = slots.get(slotId(dek, n));
      const epoch = s && s.fullNodeId === n ? Math.min(s.last + rng.int(1, 3), 0xffff) : rng.int(0, 3);
      push(register(dek, n, epoch), s ? 'advance' : 'register');
    } else if (r < 0.55) {
      const s = someSlot();
      if (s) push(s.lastEntry, 'replay');
    } else if (r < 0.62) {
      const s = someSlot();
      if (s && s.last > 0) {
        const reg = { dekId: 0, fullNodeId: s.fullNodeId, localEpoch: rng.int(0, s.last - 1) };
        const id = [...slots.entries()].find(([, v]) => v === s)![0];
        reg.dekId = Number(id.split('/')[0]);
        push(encodeRegistration(reg), 'rollback (halts)');
      }
    } else if (r < 0.66) {
      const s = someSlot();
      if (s) {
        const id = [...slots.entries()].find(([, v]) => v === s)![0];
        push(
          encodeRegistration({ dekId: Number(id.split('/')[0]), fullNodeId: intruder(s.fullNodeId), localEpoch: s.last + 1 }),
          'collision (halts)',
        );
      }
    } else if (r < 0.675) {
      // Rotate a DEK of either purpose; the proposer registers under the new DEK.
      const purpose = rng.chance(0.5) ? Purpose.STORAGE : Purpose.RAFT;
      const dek = nextDek++;
      const n = rng.pick(nodes);
      const epoch = rng.int(1, 4);
      const entry = encodeRotation({
        subtag: RotationSubtag.ROTATE_DEK,
        dekId: dek,
        purpose,
        wrapped: wrapDeterministic(kek, rng.bytes(32), rng),
        proposer: { dekId: dek, fullNodeId: n, localEpoch: epoch },
      });
      register(dek, n, epoch);
      rotations.push(entry);
      if (purpose === Purpose.STORAGE) active.storage = dek;
      else active.raft = dek;
      push(entry, 'rotate');
    } else if (r < 0.68) {
      if (rotations.length > 0) push(rng.pick(rotations), 'rotation replay');
    } else if (r < 0.69) {
      // A rotation whose wrapped DEK was tampered with in flight.
      const wrapped = wrapDeterministic(kek, rng.bytes(32), rng);
      wrapped[rng.int(0, wrapped.length - 1)]! ^= 1 << rng.int(0, 7);
      const dek = nextDek + 1000;
      push(
        encodeRotation({
          subtag: RotationSubtag.ROTATE_DEK,
          dekId: dek,
          purpose: Purpose.STORAGE,
          wrapped,
          proposer: { dekId: dek, fullNodeId: rng.pick(nodes), localEpoch: 1 },
        }),
        'tampered rotation (halts)',
      );
    } else if (r < 0.7) {
      // Envelope cutovers: the first enables; later ones are repeats or name a stale DEK.
      const storage = rng.chance(0.5);
      const stale = rng.chance(0.3);
      const dek = storage ? (stale ? Math.max(1, active.storage - 1) : active.storage) : stale ? Math.max(1, active.raft - 1) : active.raft;
      const n = rng.pick(nodes);
      const s = slots.get(slotId(dek, n));
      const epoch = s && s.fullNodeId === n ? s.last : 1;
      register(dek, n, epoch);
      push(
        encodeRotation({
          subtag: storage ? RotationSubtag.ENABLE_STORAGE_ENVELOPE : RotationSubtag.ENABLE_RAFT_ENVELOPE,
          dekId: dek,
          purpose: storage ? Purpose.STORAGE : Purpose.RAFT,
          wrapped: new Uint8Array(0),
          proposer: { dekId: dek, fullNodeId: n, localEpoch: epoch },
        }),
        storage ? (storageEnvelope ? 'storage cutover repeat' : 'storage cutover') : raftCutover ? 'raft cutover repeat' : 'raft cutover',
      );
      if (storage && !stale) storageEnvelope = true;
      if (!storage && !stale) raftCutover = true;
    } else if (r < 0.705) {
      push(bootstrapEntry!, 'bootstrap replay');
    } else if (r < 0.71) {
      push(
        encodeBootstrap({
          storageDekId: 900,
          storageWrapped: wrapDeterministic(kek, rng.bytes(32), rng),
          raftDekId: 901,
          raftWrapped: wrapDeterministic(kek, rng.bytes(32), rng),
          registrations: [],
        }),
        'conflicting bootstrap (halts)',
      );
    } else if (r < 0.74) {
      push(garbage(rng), 'malformed (halts)');
    } else if (r < 0.75) {
      push(Uint8Array.of(rng.pick([0x00, 0x01, 0x02, 0x08, 0xff]), ...rng.bytes(rng.int(0, 20))), 'foreign opcode (host-owned)');
    } else {
      // A node joins or restarts on one of the two active DEKs, the bulk of a real log.
      const n = rng.pick(nodes);
      const dek = rng.pick(activeDeks());
      const s = slots.get(slotId(dek, n));
      push(register(dek, n, s && s.fullNodeId === n ? Math.min(s.last + 1, 0xffff) : 1), s ? 'advance' : 'register');
    }
  }
  return { seed, kek, entries: entries.slice(0, count) };
}

/** Entries that decode badly: truncated, bad version, bad subtag, trailing bytes, reserved opcodes. */
function garbage(rng: Rng): Uint8Array {
  const valid = encodeRegistration({ dekId: rng.int(1, 3), fullNodeId: BigInt(rng.int(1, 1000)), localEpoch: rng.int(0, 9) });
  switch (rng.int(0, 5)) {
    case 0:
      return valid.subarray(0, rng.int(1, valid.length - 1));
    case 1:
      return Uint8Array.of(...valid, rng.int(0, 255));
    case 2:
      return Uint8Array.of(valid[0]!, 0x02, ...valid.subarray(2));
    case 3:
      return Uint8Array.of(0x05, 0x01, 0x09, ...rng.bytes(rng.int(0, 30)));
    case 4:
      return Uint8Array.of(rng.pick([0x06, 0x07]), 0x01, ...rng.bytes(rng.int(0, 12)));
    default:
      return Uint8Array.of(0x04, 0x01, ...rng.bytes(rng.int(0, 24)));
  }
}

/** Writes a log as JSON Lines in the CLI's replay format, with the KEK and seed in a header line. */
export function writeLog(path: string, log: GeneratedLog): void {
  const lines = [JSON.stringify({ seed: log.seed, kek: Buffer.from(log.kek).toString('hex') })];
  for (const e of log.entries)
    lines.push(JSON.stringify({ index: e.index.toString(), entry: Buffer.from(e.entry).toString('hex'), intent: e.intent }));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function readLog(path: string): GeneratedLog {
  const [head, ...rest] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const h = JSON.parse(head!) as { seed: number; kek: string };
  return {
    seed: h.seed,
    kek: Uint8Array.from(Buffer.from(h.kek, 'hex')),
    entries: rest.map((line) => {
      const o = JSON.parse(line) as { index: string; entry: string; intent: string };
      return { index: BigInt(o.index), entry: Uint8Array.from(Buffer.from(o.entry, 'hex')), intent: o.intent };
    }),
  };
}
