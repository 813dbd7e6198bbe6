#!/usr/bin/env node
// pnpm bench [--quick] [--backends lmdb,level,sqlite] [--out DIR] [--set name=value ...] [--against FILE]
// Measures the raw libraries and keyledger on LMDB, LevelDB and SQLite in one run (automatic group
// commit included), the Encryptor against raw node:crypto, and keyledger through a loopback etcd
// cluster (skipped, with the reason, without the `etcd` binary); prints the figures and the target
// ratios, writes results/<latest|quick>.{json,svg}, and shows how the ratios moved against the
// results it replaces (or --against FILE, an earlier run's JSON). See BENCHMARKS.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BACKENDS } from './backends.mjs';
import { chartSvg } from './chart.mjs';
import { changesReport, readEarlier } from './changes.mjs';
import { ENCRYPTOR_SIZES, benchEncryptor } from './encryptor.mjs';
import { FULL, QUICK } from './config.mjs';
import { benchEtcd } from './etcd-ledger.mjs';
import { benchPipelined } from './pipelined.mjs';
import { checkEncryptorTarget, checkTargets, encryptorTables, etcdTable, figuresTable, ratios, targetsTable } from './report.mjs';
import { leaks } from '@keyledger/reliability/key-hygiene';
import { benchReplay } from './replay-run.mjs';
import { benchBackend, keyMaterial } from './scenarios.mjs';
import { benchStateScale } from './state-scale.mjs';
import { dropDir, freshDir, removeTempRoot, tempRoot } from './tmpdir.mjs';
import { checkRssGenerators } from './workload.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// `pnpm bench -- --quick` hands the script a literal `--` first: drop it, or every option after it
// would be read as a positional argument.
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
const { values: args } = parseArgs({
  args: argv,
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string', default: BACKENDS.join(',') },
    out: { type: 'string', default: join(here, '..', 'results') },
    /** Override a size for an experiment, e.g. --set prefillRows=100000; the result is then named "custom". */
    set: { type: 'string', multiple: true, default: [] },
    /** An earlier run's results JSON to compare ratios with; default: the file this run replaces. */
    against: { type: 'string' },
  },
});
const cfg = { ...(args.quick ? QUICK : FULL) };
for (const kv of args.set) {
  const [k, v] = kv.split('=');
  if (!(k in cfg) || k === 'mode' || !Number.isFinite(Number(v)))
    throw new Error(
      `--set ${kv}: expected one of ${Object.keys(cfg)
        .filter((x) => x !== 'mode')
        .join(', ')} = a number`,
    );
  cfg[k] = Number(v);
  cfg.mode = 'custom';
}
const backends = args.backends.split(',').filter(Boolean);
for (const b of backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend ${b}; expected ${BACKENDS.join(', ')}`);

const started = performance.now();
const logged = [];
const log = (msg) => {
  logged.push(msg);
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
};

/** The run's KEK and DEKs must appear in nothing it prints or writes, in any encoding. */
function assertNoKeyMaterial(outputs) {
  for (const [what, text] of Object.entries(outputs)) {
    const leak = leaks(text, keyMaterial);
    if (leak) throw new Error(`key material (${leak}) in the ${what}: nothing was written`);
  }
}

function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown';
  let disk = 'unknown';
  try {
    disk = execFileSync('df', ['-T', tempRoot()], { encoding: 'utf8' }).trim().split('\n').pop().split(/\s+/).slice(0, 2).join(' ');
  } catch {}
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
  } catch {}
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    disk,
    commit,
  };
}

/** The RSS figure runs in a child process, alone, so nothing of this process is counted. */
function rssRun(backend, mode) {
  const dir = freshDir(`${backend}-rss-${mode}`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The parent's node flags too (an --import hook, say), and --expose-gc for the child's baseline.
      [...process.execArgv, '--expose-gc', join(here, 'rss-child.mjs'), backend, dir, String(cfg.rssEntries), String(cfg.groupSize), mode],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      dropDir(dir);
      if (code !== 0) reject(new Error(`rss child for ${backend} (${mode}) exited with ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

/**
 * Every figure must be a finite positive number, and every section there: a harness that silently
 * measures nothing has rotted. Ratios whose inputs are missing come out undefined and are caught.
 */
function assertComplete(result) {
  const bad = [];
  const walk = (v, path) => {
    if (v === undefined) bad.push(`${path} is missing`);
    else if (typeof v === 'number') {
      if (!Number.isFinite(v) || (v <= 0 && !/growth|OverRaw/i.test(path))) bad.push(`${path} = ${v}`);
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  walk(result.backends, 'backends');
  for (const b of backends) {
    if (!result.backends[b]) bad.push(`backends.${b} is missing`);
    if (!result.encryptor?.open[b]) bad.push(`encryptor.open.${b} is missing`);
  }
  for (const size of ENCRYPTOR_SIZES) if (!result.encryptor?.throughput[size]) bad.push(`encryptor.throughput.${size} is missing`);
  walk(result.encryptor, 'encryptor');
  if (!result.etcd?.skipped) walk(result.etcd, 'etcd');
  if (bad.length) throw new Error(`incomplete figures:\n  ${bad.join('\n  ')}`);
}

checkRssGenerators();
const result = { date: new Date().toISOString(), mode: cfg.mode, params: cfg, machine: machine(), backends: {}, targets: [] };
log(`${cfg.mode} run on ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.disk}; temp dir ${tempRoot()}`);
try {
  for (const backend of backends) {
    const figures = await benchBackend(backend, cfg, log);
    Object.assign(figures, await benchStateScale(backend, cfg, keyMaterial, log));
    Object.assign(figures, await benchReplay(backend, cfg, log));
    Object.assign(figures, await benchPipelined(backend, cfg, log));
    log(`${backend}: RSS over ${cfg.rssEntries.toLocaleString('en')} grouped applies (child process)`);
    figures.rss = await rssRun(backend, 'keyledger');
    log(`${backend}: the same with the raw library, for comparison`);
    figures.rawRss = await rssRun(backend, 'raw');
    figures.ratios = ratios(figures);
    result.backends[backend] = figures;
    result.targets.push(...checkTargets(backend, figures.ratios));
  }
  log('encryptor: encrypt/decrypt against raw node:crypto, and Encryptor.open');
  result.encryptor = await benchEncryptor(cfg, backends, log);
  result.targets.push(checkEncryptorTarget(result.encryptor));
  result.etcd = await benchEtcd(cfg, log, keyMaterial);
  assertComplete(result);
  result.seconds = (performance.now() - started) / 1000;
  const name = { full: 'latest', quick: 'quick', custom: 'custom' }[cfg.mode];
  mkdirSync(args.out, { recursive: true });
  const jsonPath = join(args.out, `${name}.json`);
  const svgPath = join(args.out, `${name}.svg`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const svg = await chartSvg(result);
  const missed = result.targets.filter((t) => !t.met);
  const earlierPath = args.against ?? jsonPath;
  const earlier = readEarlier(earlierPath);
  const summary = [
    figuresTable(result),
    targetsTable(result),
    encryptorTables(result),
    etcdTable(result),
    `${result.targets.length - missed.length}/${result.targets.length} targets met${missed.length ? `; missed: ${missed.map((t) => `${t.backend} ${t.target}`).join(', ')}` : ''}`,
    earlier
      ? changesReport(result, earlier, relative(process.cwd(), earlierPath))
      : `no earlier run at ${relative(process.cwd(), earlierPath)} to compare with`,
  ].join('\n');
  if (keyMaterial.length === 0) throw new Error('no key material was recorded: the key-hygiene check would prove nothing');
  assertNoKeyMaterial({ 'progress log': logged.join('\n'), 'results JSON': json, 'SVG chart': svg, tables: summary });
  writeFileSync(jsonPath, json);
  writeFileSync(svgPath, svg);
  console.log(summary);
  log(`key hygiene: none of the run's ${keyMaterial.length} keys (KEKs and DEKs) in its output, JSON or SVG`);
  console.log(`wrote ${relative(process.cwd(), jsonPath)} and ${relative(process.cwd(), svgPath)} in ${result.seconds.toFixed(1)} s`);
} finally {
  removeTempRoot();
}
