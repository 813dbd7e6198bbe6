import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import {
  Applier,
  Encryptor,
  ErrorCode,
  decodeEnvelope,
  decryptEnvelope,
  hasCode,
  type KeyPurpose,
  type RegistryStore,
} from '@keyledger/core';
import { u64Of } from '../arguments.js';
import { CliError, ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { LogSnapshot, formatLogLine } from '../log-file.js';
import { hex, stderr } from '../output.js';
import { parseStoreUri, storeOption, withStore } from '../store-uri.js';

export interface EnvelopeCommandOptions {
  store: string;
  kek?: string;
  context?: string;
  purpose: string;
  hex?: boolean;
}

export interface EncryptOptions extends EnvelopeCommandOptions {
  log?: string;
  nodeId?: string;
  compress?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function purposeOf(text: string): KeyPurpose {
  if (text !== 'storage' && text !== 'raft') throw new CliError(`--purpose must be storage or raft, got ${JSON.stringify(text)}`);
  return text;
}

function nodeIdOf(text: string | undefined): bigint {
  const id = text === undefined ? undefined : u64Of(text);
  if (id === undefined) throw new CliError("--node-id must be this node's full node id, a u64 in decimal or 0x-hex");
  return id;
}

async function openApplier(store: RegistryStore, options: EnvelopeCommandOptions): Promise<Applier> {
  const kek = await openKek(options.kek);
  if (kek === undefined) throw new CliError('--kek FILE is required: the DEKs are unwrapped with it');
  return Applier.open(store, { kek });
}

/** Applies the log records above the applier's applied index; returns the last index in the log. */
async function catchUp(applier: Applier, logPath: string): Promise<bigint> {
  const log = await LogSnapshot.open(logPath);
  let last = 0n;
  try {
    for await (const r of log.records()) {
      last = r.index;
      if (r.index > applier.appliedIndex) await applier.applyEntry(r.entry, r.index);
    }
  } finally {
    await log.close();
  }
  return last;
}

/**
 * One process life of a writer whose replicated log is a JSON Lines file: catch up, open an
 * Encryptor (a fresh epoch), append its registration to the log (synced) and apply it, then seal
 * stdin. The envelope goes to stdout; the epoch and nonce prefix to stderr.
 */
export async function runEncrypt(options: EncryptOptions): Promise<number> {
  const purpose = purposeOf(options.purpose);
  const nodeId = nodeIdOf(options.nodeId);
  if (options.log === undefined) throw new CliError('--log FILE is required: the registration is appended to the replicated log');
  const logPath = options.log;
  const plaintext = await readStdin();
  const sealed = await withStore(parseStoreUri(options.store), { create: false }, async (store) => {
    const applier = await openApplier(store, options);
    try {
      await catchUp(applier, logPath);
      const enc = await Encryptor.open(applier, { nodeId, purpose, compress: options.compress === true });
      for (;;) {
        const index = (await catchUp(applier, logPath)) + 1n;
        const fd = openSync(logPath, 'a');
        try {
          writeSync(fd, `${formatLogLine(index, enc.registration())}\n`);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
        const gate = enc.registered(index);
        await catchUp(applier, logPath);
        try {
          await gate;
          break;
        } catch (err) {
          // A replayed epoch was bumped again: register the new one.
          if (!hasCode(err, ErrorCode.LOCAL_EPOCH_ROLLBACK)) throw err;
        }
      }
      const out = await enc.encrypt(plaintext, new TextEncoder().encode(options.context ?? ''));
      const nonce = decodeEnvelope(out).nonce;
      stderr.line(
        `node ${hex(nodeId, 16)} DEK ${enc.dekId} epoch ${enc.epoch}: nonce prefix ${Buffer.from(nonce.subarray(0, 4)).toString('hex')}`,
      );
      await enc.close();
      return out;
    } finally {
      await applier.close();
    }
  });
  process.stdout.write(options.hex ? `${Buffer.from(sealed).toString('hex')}\n` : sealed);
  return ExitCode.OK;
}

/** Opens an envelope from stdin with the store's DEKs; bumps nothing, needs no registry. */
export async function runDecrypt(options: EnvelopeCommandOptions): Promise<number> {
  const purpose = purposeOf(options.purpose);
  const input = await readStdin();
  const sealed = options.hex ? Buffer.from(input.toString('utf8').trim(), 'hex') : input;
  const plain = await withStore(parseStoreUri(options.store), { create: false }, async (store) => {
    const applier = await openApplier(store, options);
    try {
      return await decryptEnvelope(applier, new Uint8Array(sealed), { purpose, context: new TextEncoder().encode(options.context ?? '') });
    } finally {
      await applier.close();
    }
  });
  process.stdout.write(plain);
  return ExitCode.OK;
}

function envelopeOptions(command: Command): Command {
  return command
    .addOption(storeOption("the node's store"))
    .option('--kek <file>', 'the KEK file (32 bytes, mode 0600)')
    .option('--context <text>', 'the context the value is bound to (e.g. its key); storage only', '')
    .option('--purpose <purpose>', 'storage or raft', 'storage')
    .option('--hex', 'envelopes as hex text instead of raw bytes');
}

export function encryptCommand(): Command {
  return envelopeOptions(new Command('encrypt').description('seal stdin in an envelope under a fresh, registered epoch of this node'))
    .option('--log <file>', 'the replicated log (JSON Lines) the registration is appended to')
    .option('--node-id <id>', "this node's full node id (decimal or 0x-hex)")
    .option('--compress', 'Snappy-compress the plaintext when that makes it shorter')
    .addHelpText(
      'after',
      `
Exit codes: 0 sealed, 1 usage or I/O error or a refused open (rollback, collision, exhausted).

Example:
  $ echo -n secret | keyledger encrypt --store sqlite:a.db --kek kek.bin --log demo-log.jsonl --node-id 0x0a01 --context user/7 --hex`,
    )
    .action(async (options: EncryptOptions) => {
      process.exitCode = await runEncrypt(options);
    });
}

export function decryptCommand(): Command {
  return envelopeOptions(new Command('decrypt').description('open an envelope from stdin with the DEKs of a store'))
    .addHelpText(
      'after',
      `
Exit codes: 0 opened, 1 usage or I/O error, a damaged envelope, a wrong context or an unknown key id.

Example:
  $ keyledger decrypt --store sqlite:b.db --kek kek.bin --context user/7 --hex < sealed.hex`,
    )
    .action(async (options: EnvelopeCommandOptions) => {
      process.exitCode = await runDecrypt(options);
    });
}
