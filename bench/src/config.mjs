// Sizes of the full run and of --quick. The full run is sized to finish in about 20 minutes on a
// 2-core VM; --quick exercises every code path in seconds and its figures mean little.
export const FULL = {
  mode: 'full',
  /** Rounds per figure; medians are reported. One more unrecorded warm-up round precedes them. */
  rounds: 7,
  /** fsync probe: writes per round. */
  fsyncOps: 2000,
  /** One-per-commit rounds: slots per round, each inserted then advanced (2 ops per slot). */
  perOpSlots: 500,
  /** Group-commit rounds: slots per round (2 ops per slot), in groups of groupSize. */
  groupedSlots: 20_000,
  groupSize: 1000,
  /** Rows written straight into the "big store" before its figures are taken. */
  prefillRows: 1_000_000,
  /** Registrations applied in groups by the RSS child. */
  rssEntries: 1_000_000,
  openRounds: 31,
  coldOpenRounds: 5,
};

export const QUICK = {
  mode: 'quick',
  rounds: 3,
  fsyncOps: 200,
  perOpSlots: 25,
  groupedSlots: 2000,
  groupSize: 1000,
  prefillRows: 20_000,
  rssEntries: 20_000,
  openRounds: 5,
  coldOpenRounds: 2,
};
