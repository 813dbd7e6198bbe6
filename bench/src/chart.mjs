// The throughput figures as an SVG bar chart: ops/s per backend and mode, on a log scale.
// Vega-Lite compiles the spec to Vega, which renders SVG headlessly (no canvas, no browser).
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** [figure, workload, who]: bars of one workload stand side by side, coloured by who did the work. */
const BARS = [
  ['disk', '64 B write + fsync', 'disk'],
  ['rawPerOp', '1/commit', 'raw library'],
  ['perEntry', '1/commit', 'keyledger'],
  ['perEntryFull', '1/commit, big store', 'keyledger'],
  ['rawGrouped', '1,000/commit', 'raw library'],
  ['grouped', '1,000/commit', 'keyledger'],
  ['rawGroupedFull', '1,000/commit, big store', 'raw library'],
  ['groupedFull', '1,000/commit, big store', 'keyledger'],
  ['rawGroupedScattered', '1,000/commit, scattered', 'raw library'],
  ['groupedScattered', '1,000/commit, scattered', 'keyledger'],
];
const WORKLOADS = [...new Set(BARS.map(([, w]) => w))];
const WHO = ['disk', 'raw library', 'keyledger'];

function compact(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

export async function chartSvg(result) {
  const values = [];
  for (const [backend, f] of Object.entries(result.backends)) {
    for (const [id, workload, who] of BARS) {
      const opsPerSec = Math.round(f[id].median);
      values.push({ backend, workload, who, opsPerSec, label: compact(opsPerSec) });
    }
  }
  const p = result.params;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Durable read-modify-writes per second: keyledger vs the raw storage libraries',
      subtitle: [
        `Median of ${p.perOpRounds} rounds (1/commit) and ${p.groupedRounds} rounds (1,000/commit), interleaved. Log scale.`,
        `Big store: ${p.prefillRows.toLocaleString('en')} rows; scattered: new rows inserted between them.`,
        `${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.disk}, Node ${result.machine.node}, ${result.date.slice(0, 10)} (${result.mode} run).`,
      ],
      anchor: 'start',
    },
    data: { values },
    facet: {
      column: {
        field: 'backend',
        type: 'nominal',
        title: null,
        sort: Object.keys(result.backends),
        header: { labelFontSize: 14, labelFontWeight: 'bold' },
      },
    },
    spec: {
      width: 300,
      height: 320,
      encoding: {
        x: { field: 'workload', type: 'nominal', sort: WORKLOADS, title: null, axis: { labelAngle: -35, labelLimit: 220 } },
        xOffset: { field: 'who', type: 'nominal', sort: WHO },
        y: { field: 'opsPerSec', type: 'quantitative', scale: { type: 'log', domainMin: 500 }, stack: null, title: 'ops/s (log scale)' },
        color: {
          field: 'who',
          type: 'nominal',
          sort: WHO,
          title: null,
          scale: { domain: WHO, range: ['#9e9e9e', '#f58518', '#4c78a8'] },
          legend: { orient: 'top' },
        },
      },
      layer: [
        { mark: { type: 'bar' } },
        { mark: { type: 'text', angle: 270, align: 'left', dx: 3, fontSize: 9, color: '#333' }, encoding: { text: { field: 'label' } } },
      ],
    },
    config: { view: { stroke: '#ddd' }, font: 'Helvetica, Arial, sans-serif' },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
