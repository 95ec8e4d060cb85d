// A row of headline numbers, each with its change from the previous period
// when comparing.
import { html } from './ui.js';
import { columnTitle, formatCell, change } from '../lib/format.js';

export function Kpis({ row, columns, currency, titles = {} }) {
  const previous = row && row.comparisons && row.comparisons[0];
  return html`<dl class="kpis">
    ${columns.filter((c) => row && row[c] !== undefined).map((c) => {
      const delta = previous ? change(row[c], previous[c]) : '';
      return html`<div class="kpi" key=${c}>
        <dt>${titles[c] || columnTitle(c)}</dt>
        <dd><span class="value">${formatCell(c, row[c], currency)}</span>
          ${delta && html`<span class=${'delta ' + (delta.startsWith('-') ? 'down' : 'up')}
            title=${'previous period: ' + formatCell(c, previous[c], currency)}>${delta}</span>`}</dd>
      </div>`;
    })}
  </dl>`;
}
