// Sizes of the full run and of --quick. The full run is sized for about 10 minutes on a 2-core VM;
// --quick exercises every code path in seconds and its figures mean little.
//
// A "chunk" is the unit scenarios take turns on: one-per-commit chunks are `perOpChunkSlots` new
// slots registered then advanced (2 ops per slot) and, for the disk, as many fsyncs; grouped chunks
// are one group of `groupSize` inserts then one group advancing the same slots. Each figure is the
// median over rounds (one unrecorded warm-up round precedes them) of ops / summed time in the round.
export const FULL = {
  mode: 'full',
  perOpRounds: 21,
  perOpChunks: 10,
  perOpChunkSlots: 25,
  groupedRounds: 21,
  groupedChunks: 10,
  groupSize: 1000,
  /** Rows written straight into the "big store" before its figures are taken. */
  prefillRows: 1_000_000,
  /** Registrations applied in groups by the RSS child. */
  rssEntries: 1_000_000,
  openRounds: 31,
  coldOpenRounds: 5,
  /** DEKs in the big encryption state of the open and rotation figures (the small one holds 10). */
  manyDeks: 10_000,
  stateRounds: 11,
  /** Registrations in the log `keyledger replay` applies, and rounds of replay vs in-process. */
  replayEntries: 50_000,
  replayRounds: 3,
  /** Automatic group commit: new slots per chunk (sequential applyEntry takes an eighth), rounds, chunks. */
  /** Calls in flight, and the group size of the applyEntries baseline (issue 16's targets are for 64). */
  pipelinedInFlight: 64,
  pipelinedSlots: 512,
  pipelinedRounds: 11,
  pipelinedChunks: 5,
  /** Plaintext MiB each Encryptor scenario seals or opens per round, whatever the value size. */
  encryptorMiBPerRound: 16,
  /** Entries through etcd per latency figure and in the throughput run. */
  etcdEntries: 300,
};

export const QUICK = {
  mode: 'quick',
  perOpRounds: 3,
  perOpChunks: 2,
  perOpChunkSlots: 10,
  groupedRounds: 3,
  groupedChunks: 2,
  groupSize: 1000,
  prefillRows: 20_000,
  rssEntries: 20_000,
  openRounds: 5,
  coldOpenRounds: 2,
  manyDeks: 1_000,
  stateRounds: 2,
  replayEntries: 5_000,
  replayRounds: 1,
  pipelinedInFlight: 64,
  pipelinedSlots: 128,
  pipelinedRounds: 2,
  pipelinedChunks: 1,
  encryptorMiBPerRound: 0.25,
  etcdEntries: 20,
};
