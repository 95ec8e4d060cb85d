// Line charts over time (uPlot). Series labels may be tracked strings: uPlot
// writes them with textContent, never as HTML.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html, useApi } from './ui.js';
import { useViewContext } from '../lib/context.js';
import { numeric, columnTitle } from '../lib/format.js';
import { periodKeyTime, evolutionParams, previousEvolutionParams } from '../lib/period.js';

const COLOURS = ['#2f6fde', '#e0772f', '#2a9d68', '#b24bd0', '#c9364f'];

export function LineChart({ times, series, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const opts = {
      width: el.clientWidth || 600,
      height,
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: COLOURS[(s.colour ?? i) % COLOURS.length], width: 2, dash: s.dashed ? [6, 4] : undefined,
        points: { show: times.length < 40 },
      }))],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
    };
    const plot = new uPlot(opts, [times, ...series.map((s) => s.values)], el);
    const resized = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    resized.observe(el);
    return () => { resized.disconnect(); plot.destroy(); };
  }, [JSON.stringify(times), JSON.stringify(series), height]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${'Chart: ' + series.map((s) => s.label).join(', ')}></div>`;
}

// The evolution of `method` over the view's span (evolutionParams) and, when
// the view compares, the span before it (previousEvolutionParams).
export function useEvolution(method, params) {
  const { view, site } = useViewContext();
  const current = useApi(method, { ...params, ...evolutionParams(view.period, view.date, site.timezone) });
  const previous = useApi(view.compare === '1' ? method : null,
    { ...params, ...previousEvolutionParams(view.period, view.date, site.timezone) });
  return { current, previous: previous.data };
}

// A chart of `columns` from a multi-period answer ({period: row}); with a
// `previous` answer, each column also as a dashed series of the earlier
// span, aligned by position (its first period under the first period shown).
export function EvolutionChart({ answer, columns, previous }) {
  const keys = Object.keys(answer || {}).sort();
  const times = keys.map(periodKeyTime);
  const valuesOf = (source, column) => {
    const sourceKeys = Object.keys(source).sort();
    return keys.map((_, i) => (i < sourceKeys.length ? numeric((source[sourceKeys[i]] || {})[column]) ?? 0 : null));
  };
  const series = columns.map((column) => ({ label: columnTitle(column), values: valuesOf(answer, column) }));
  if (previous) {
    series.push(...columns.map((column, j) => ({
      label: `${columnTitle(column)} (previous period)`, values: valuesOf(previous, column), dashed: true, colour: j,
    })));
  }
  return html`<${LineChart} times=${times} series=${series} />`;
}
