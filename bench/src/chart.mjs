// The throughput figures as an SVG bar chart: ops/s per backend and mode, on a log scale.
// Vega-Lite compiles the spec to Vega, which renders SVG headlessly (no canvas, no browser).
import * as vega from 'vega';
import * as vl from 'vega-lite';

const MODES = [
  ['disk', 'disk: 64 B write + fsync'],
  ['rawPerOp', 'raw, 1 per commit'],
  ['perEntry', 'keyledger, 1 per commit'],
  ['perEntryFull', 'keyledger, 1 per commit, big store'],
  ['rawGrouped', 'raw, group commit'],
  ['grouped', 'keyledger, group commit'],
  ['groupedFull', 'keyledger, group commit, big store'],
  ['rawGroupedScattered', 'raw, group commit, scattered in big store'],
  ['groupedScattered', 'keyledger, group commit, scattered in big store'],
];

export async function chartSvg(result) {
  const values = [];
  for (const [backend, f] of Object.entries(result.backends)) {
    for (const [id, label] of MODES) values.push({ backend, mode: label, opsPerSec: Math.round(f[id].median) });
  }
  const order = MODES.map(([, label]) => label);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'keyledger vs raw storage libraries: durable read-modify-writes per second',
      subtitle: `medians of ${result.params.perOpRounds} / ${result.params.groupedRounds} rounds; groups of ${result.params.groupSize}; big store = ${result.params.prefillRows.toLocaleString('en')} rows; ${result.machine.cpu}, ${result.machine.cores} cores; ${result.date.slice(0, 10)}`,
    },
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      column: {
        field: 'backend',
        type: 'nominal',
        title: null,
        sort: Object.keys(result.backends),
        header: { labelFontSize: 13, labelFontWeight: 'bold' },
      },
      x: { field: 'mode', type: 'nominal', sort: order, axis: null },
      y: { field: 'opsPerSec', type: 'quantitative', scale: { type: 'log' }, stack: null, title: 'ops/s (log scale)' },
      color: {
        field: 'mode',
        type: 'nominal',
        sort: order,
        title: null,
        scale: { scheme: 'tableau10' },
        legend: { orient: 'bottom', columns: 4 },
      },
    },
    width: 210,
    height: 300,
    config: { view: { stroke: '#ddd' }, font: 'Helvetica, Arial, sans-serif' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
