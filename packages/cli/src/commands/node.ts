import { createInterface } from 'node:readline';
import { EtcdLedger } from '@keyledger/etcd';
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt, u64Of } from '../arguments.js';
import { CliError, ExitCode } from '../cli-error.js';
import { openKek } from '../kek-file.js';
import { formatError, hex, stderr, stdout } from '../output.js';
import { formatStoreUri, openStore, parseStoreUri, storeOption } from '../store-uri.js';

export interface NodeOptions {
  etcd: string;
  prefix: string;
  store: string;
  kek?: string;
  nodeId: bigint;
  truncateEvery?: number;
  /** False with --no-stdin: run until SIGINT/SIGTERM without reading commands. */
  stdin: boolean;
}

function parseNodeId(value: string): bigint {
  const id = u64Of(value);
  if (id === undefined) throw new InvalidArgumentError('--node-id must be a u64, decimal or 0x-hex');
  return id;
}

const HELP_LINES = [
  'commands on stdin:',
  '  encrypt TEXT      seal TEXT (context "cli"), print the envelope as base64',
  '  decrypt BASE64    open an envelope sealed by any node',
  '  rotate            propose a storage DEK rotation',
  '  truncate          truncate the log through the lowest live applied index',
  '  status            print the applied index, DEK and epoch',
];

/**
 * Runs one keyledger node against an etcd cluster until SIGINT/SIGTERM: follows the log into the
 * local store, registers, and takes commands on stdin. Exit 2 when the follower halts.
 */
export async function runNode(options: NodeOptions): Promise<number> {
  const kek = await openKek(options.kek);
  if (kek === undefined) throw new CliError('keyledger node needs --kek FILE: the KEK every node of the ledger shares');
  const uri = parseStoreUri(options.store);
  const store = await openStore(uri);
  let halted = false;
  // Set once the command loop exists; a halt during start only marks the node halted.
  let stop: () => void = () => undefined;
  let ledger: EtcdLedger;
  try {
    ledger = await EtcdLedger.start({
      etcd: { hosts: options.etcd.split(',').map((h) => h.trim()) },
      prefix: options.prefix,
      store,
      kek,
      nodeId: options.nodeId,
      onHalt: () => {
        halted = true;
        stop();
      },
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const status = () => {
    const enc = ledger.encryptor;
    return `node ${hex(options.nodeId, 16)} · store ${formatStoreUri(uri)} · applied ${ledger.appliedIndex} · DEK ${enc?.dekId ?? '-'} epoch ${enc?.epoch ?? '-'}${enc?.isRegistered ? ' (registered)' : ''}`;
  };
  let last = status();
  stdout.line(last);
  for (const line of HELP_LINES) stdout.line(stdout.c.dim(line));
  // Printed whenever it changes: the applied index, the DEK, the epoch or the registration.
  const ticker = setInterval(() => {
    const now = status();
    if (now !== last) {
      last = now;
      stdout.line(now);
    }
  }, 250);
  const truncator = options.truncateEvery
    ? setInterval(
        () => void ledger.truncate().catch((err: unknown) => stderr.line(formatError(err).join('\n'))),
        options.truncateEvery * 1000,
      )
    : undefined;

  const input = options.stdin ? createInterface({ input: process.stdin, terminal: false }) : undefined;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  stop = () => {
    input?.close();
    done();
  };
  if (halted) stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  input?.on('line', (line) => {
    void handle(ledger, line.trim(), status).catch((err: unknown) => stderr.line(stderr.c.red(formatError(err).join('\n'))));
  });
  // End of stdin (Ctrl-D) stops the node once the commands already read have finished.
  input?.on('close', () => setTimeout(stop, 500));
  await finished;
  clearInterval(ticker);
  if (truncator) clearInterval(truncator);
  const halt = ledger.halt;
  await ledger.close();
  await store.close();
  if (halted && halt) {
    stderr.line(stderr.c.red(`halted: ${halt.message}`));
    return ExitCode.PROBLEM;
  }
  return ExitCode.OK;
}

async function handle(ledger: EtcdLedger, line: string, status: () => string): Promise<void> {
  const [verb, ...rest] = line.split(' ');
  const arg = rest.join(' ');
  const context = new TextEncoder().encode('cli');
  switch (verb) {
    case '':
      return;
    case 'encrypt':
      stdout.line(Buffer.from(await ledger.encrypt(new TextEncoder().encode(arg), context)).toString('base64'));
      return;
    case 'decrypt':
      stdout.line(new TextDecoder().decode(await ledger.decrypt(new Uint8Array(Buffer.from(arg, 'base64')), context)));
      return;
    case 'rotate':
      stdout.line(`rotation applied at ${await ledger.rotate()}`);
      return;
    case 'truncate': {
      const through = await ledger.truncate();
      stdout.line(through === undefined ? 'nothing to truncate' : `log truncated through ${through}`);
      return;
    }
    case 'status':
      stdout.line(status());
      return;
    default:
      stderr.line(`unknown command "${verb}"; ${HELP_LINES.join('\n')}`);
  }
}

export function nodeCommand(): Command {
  return new Command('node')
    .description('run a keyledger node against an etcd cluster: follow its log into a local store, register, encrypt')
    .requiredOption('--etcd <hosts>', 'etcd client endpoints, comma-separated (host:port)')
    .requiredOption('--node-id <id>', "this node's u64 id, decimal or 0x-hex; its low 16 bits must be unique", parseNodeId)
    .option('--prefix <prefix>', 'where the log lives in etcd', 'keyledger')
    .addOption(storeOption('local store'))
    .option('--kek <file>', 'the 32-byte KEK file every node shares (keyledger keygen)')
    .option('--no-stdin', 'read no commands; run until SIGINT/SIGTERM (as a service)')
    .option(
      '--truncate-every <seconds>',
      'truncate the log through the lowest live applied index this often',
      positiveInt('--truncate-every'),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 stopped by SIGINT/SIGTERM or end of stdin, 1 could not start, 2 the follower halted.

Example:
  $ keyledger node --etcd 127.0.0.1:2379 --node-id 0xa1 --store sqlite:a.db --kek kek.bin`,
    )
    .action(async (options: NodeOptions) => {
      try {
        process.exitCode = await runNode(options);
      } finally {
        // Since the h/encryptor merge a node whose start failed after its Encryptor opened leaves
        // etcd3's sockets open after close() (not yet found): the run ends here either way.
        setTimeout(() => process.exit(), 1000).unref();
      }
    });
}
