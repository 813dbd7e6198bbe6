// CJS consumer: require() of core, its conformance subpath and every adapter.
const core = require('@keyledger/core');
const conformance = require('@keyledger/core/conformance');
const { LmdbRegistryStore } = require('@keyledger/lmdb');
const { LevelRegistryStore } = require('@keyledger/level');
const { SqliteRegistryStore } = require('@keyledger/sqlite');

for (const [name, v] of Object.entries({
  Applier: core.Applier,
  hasCode: core.hasCode,
  runConformance: conformance.runConformance,
  LmdbRegistryStore,
  LevelRegistryStore,
  SqliteRegistryStore,
})) {
  if (typeof v !== 'function') throw new TypeError(`cjs: ${name} is not exported`);
}
// Applier.open is the one way to construct one: a missing store is refused with its typed code.
core.Applier.open(null).then(
  () => {
    throw new TypeError('cjs: Applier.open(null) resolved');
  },
  (err) => {
    if (!core.hasCode(err, 'ERR_NIL_STORE')) throw err;
    console.log('cjs: core, conformance and adapters load with require()');
  },
);
