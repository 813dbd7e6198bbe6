/**
 * The process the crash campaigns SIGKILL (run through the harness's `runChild`). It opens the named
 * store, rebuilds the applier — state and keystore — from what the store holds, applies the log
 * from the given entry on, one entry at a time as a Raft host does, and after each entry prints
 * `ack <index> <outcome>`, only once applyEntry has resolved or halted, so every line the parent
 * reads is an entry the store acknowledged. stdout is a pipe and writeSync is synchronous, so no
 * acknowledgement is left buffered in this process when it dies.
 */
import { writeSync } from 'node:fs';
import { Applier, FileKek } from '@keyledger/core';
import { readLog } from './log-generator.js';
import { FIXED_CLOCK, applyOne } from './reference.js';
import { isStoreName, openStore } from './stores.js';

/**
 * Run through `RUN_MAIN_SCRIPT`: argv is `<this module's URL> <store> <dir> <log> <first index>
 * [<self-kill after N acks> [<self-kill before the Nth ack>]]`. A self-kill SIGKILLs this process
 * right after the Nth ack is written: the worst moment for a store that acknowledges before its
 * sync completes, and one a kill sent from the parent (which must first read the ack) reaches too
 * late to hit reliably. A kill before the Nth ack lands after keyledger's durable write and before
 * the host's own bookkeeping (the ack), so the parent re-delivers that entry: the re-delivery case.
 */
export async function main([name, dir, logPath, fromArg, selfKillArg, killBeforeAckArg]: string[]): Promise<void> {
  const selfKill = Number(selfKillArg ?? 0);
  const killBeforeAck = Number(killBeforeAckArg ?? 0);
  let acks = 0;
  if (!name || !isStoreName(name) || !dir || !logPath || !fromArg) throw new TypeError('usage: <store> <dir> <log> <from>');
  const log = readLog(logPath);
  const store = await openStore(name, dir);
  const applier = await Applier.open(store, { kek: FileKek.fromBytes(log.kek), now: FIXED_CLOCK, onRaftKeyInstalled: () => undefined });
  writeSync(1, `ready ${applier.state.raftAppliedIndex}\n`);
  for (let i = Number(fromArg); i <= log.entries.length; i++) {
    const outcome = await applyOne(applier, log.entries[i - 1]!);
    if (acks + 1 === killBeforeAck) process.kill(process.pid, 'SIGKILL');
    writeSync(1, `ack ${i} ${outcome}\n`);
    if (++acks === selfKill) process.kill(process.pid, 'SIGKILL');
  }
  await applier.close();
  await store.close();
  writeSync(1, 'done\n');
}
