// Line charts over time (uPlot). Series labels may be tracked strings: uPlot
// writes them with textContent, never as HTML.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { html } from './ui.js';
import { numeric, columnTitle } from '../lib/format.js';
import { periodKeyTime } from '../lib/period.js';

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
        label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, dash: s.dashed ? [6, 4] : undefined,
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

// A chart of `columns` from a multi-period answer ({period: row}).
export function EvolutionChart({ answer, columns }) {
  const keys = Object.keys(answer || {}).sort();
  const times = keys.map(periodKeyTime);
  const series = columns.map((column) => ({
    label: columnTitle(column),
    values: keys.map((k) => numeric((answer[k] || {})[column]) ?? 0),
  }));
  return html`<${LineChart} times=${times} series=${series} />`;
}
