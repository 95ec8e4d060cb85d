// The one report table: sortable, searchable (filter_pattern), paged,
// exportable as CSV with the same parameters, subtables expandable, and any
// top-level row's evolution as a chart. Every tracked string is rendered as
// text by Preact; URLs become links only when they are http(s).
import { useState, useEffect } from 'preact/hooks';
import { html, useApi, Async, ErrorBox, Loading } from './ui.js';
import { EvolutionChart, useEvolution } from './chart.js';
import { downloadCsv } from '../lib/api.js';
import { useViewContext, reportParams, andSegment, literalPattern } from '../lib/context.js';
import { linkTo } from '../lib/route.js';
import { columnTitle, formatCell, change, safeHref, ROW_META, HIDDEN_COLUMNS, numeric } from '../lib/format.js';

const PAGE_SIZES = [10, 25, 50, 100];

// The columns of a report: those the page names, or those its rows have.
function columnsOf(spec, rows) {
  if (spec.columns) return spec.columns;
  const first = rows.find((r) => r) || {};
  return Object.keys(first).filter((k) => !ROW_META.has(k) && !HIDDEN_COLUMNS.has(k)
    && typeof first[k] !== 'object');
}

function useDebounced(value, ms) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function SortHeader({ column, sort, setSort }) {
  const active = sort.column === column;
  const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none';
  const next = () => setSort(active && sort.order === 'desc'
    ? { column, order: 'asc' } : { column, order: 'desc' });
  return html`<th scope="col" aria-sort=${ariaSort} class=${column === 'label' ? 'label' : 'num'}>
    <button type="button" class="sort" onClick=${next}>
      ${columnTitle(column)}${active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}
    </button></th>`;
}

function Cell({ column, row, currency }) {
  const value = row[column];
  const previous = row.comparisons && row.comparisons[0];
  const delta = previous ? change(value, previous[column]) : '';
  const direction = delta.startsWith('+') || delta === 'new' ? 'up' : delta.startsWith('-') ? 'down' : '';
  return html`<td class="num">${formatCell(column, value, currency)}${delta && html`
    <span class=${'delta ' + direction} title=${'previous period: ' + formatCell(column, previous[column], currency)}>${delta}</span>`}</td>`;
}

function LabelCell({ row, depth, open, toggle, spec, view, onEvolution }) {
  const href = safeHref(row.url);
  const expandable = row.idsubdatatable && toggle;
  return html`<th scope="row" class="label">
    <span class="indent" style=${{ paddingLeft: `${depth * 1.2}rem` }}>
      ${expandable ? html`<button type="button" class="expand" aria-expanded=${open}
          aria-label=${(open ? 'Collapse ' : 'Expand ') + row.label} onClick=${toggle}>${open ? '▾' : '▸'}</button>`
        : html`<span class="expand-space"></span>`}
      <span class="text">${row.label}</span>
      ${href && html` <a class="out" href=${href} target="_blank" rel="noopener noreferrer"
          aria-label=${'Open ' + href}>↗</a>`}
    </span>
    <span class="row-actions">
      ${onEvolution && html`<button type="button" class="link" onClick=${onEvolution}
          aria-label=${'Evolution of ' + row.label}>evolution</button>`}
      ${row.segment && html`<a href=${linkTo(view, { segment: andSegment(view.segment, row.segment) })}
          aria-label=${'Segment: ' + row.label}>segment</a>`}
      ${spec.transitions && href && html`<a href=${linkTo(view, { page: 'transitions', pageUrl: row.url })}
          aria-label=${'Transitions of ' + row.label}>transitions</a>`}
    </span>
  </th>`;
}

function Rows({ rows, columns, depth, spec, params, currency, view, onEvolution }) {
  const [open, setOpen] = useState({});
  const toggle = (id) => setOpen((o) => ({ ...o, [id]: !o[id] }));
  return rows.map((row, i) => {
    const id = row.idsubdatatable;
    const isOpen = Boolean(id && open[id]);
    return html`
      <tr key=${(row.label ?? '') + i} class=${depth ? 'sub' : ''}>
        <${LabelCell} row=${row} depth=${depth} open=${isOpen} spec=${spec} view=${view}
          toggle=${id && !params.flat ? () => toggle(id) : null}
          onEvolution=${depth === 0 && onEvolution ? () => onEvolution(row) : null} />
        ${columns.map((c) => html`<${Cell} key=${c} column=${c} row=${row} currency=${currency} />`)}
      </tr>
      ${isOpen && html`<${Subtable} id=${id} columns=${columns} depth=${depth + 1} spec=${spec}
          params=${params} currency=${currency} view=${view} />`}`;
  });
}

function Subtable({ id, columns, depth, spec, params, currency, view }) {
  const { filter_limit: _limit, filter_offset: _offset, ...rest } = params;
  const result = useApi(spec.method, { ...rest, idSubtable: id, filter_limit: 100 });
  const span = columns.length + 1;
  if (result.error) return html`<tr><td colspan=${span}><${ErrorBox} error=${result.error} /></td></tr>`;
  if (!result.data) return html`<tr><td colspan=${span}><${Loading} /></td></tr>`;
  return html`<${Rows} rows=${result.data} columns=${columns} depth=${depth} spec=${spec}
    params=${params} currency=${currency} view=${view} />`;
}

function RowEvolution({ spec, row, params, columns, close }) {
  const [column, setColumn] = useState(columns[0]);
  const { filter_limit: _l, filter_offset: _o, filter_sort_column: _c, filter_sort_order: _s,
    filter_pattern: _p, compare: _compare, ...base } = params;
  const evolution = useEvolution(spec.method, {
    ...base, filter_pattern: `^${literalPattern(String(row.label))}$`, filter_limit: -1,
  });
  // {period: rows} to {period: the row's numbers}, as EvolutionChart reads.
  const rowOverTime = (answer) => answer && Object.fromEntries(Object.entries(answer).map(([period, rows]) =>
    [period, { [column]: numeric((Array.isArray(rows) && rows.find((r) => r.label === row.label) || {})[column]) ?? 0 }]));
  return html`<div class="evolution" role="region" aria-label=${'Evolution of ' + row.label}>
    <div class="evolution-head">
      <strong>Evolution of <span class="text">${row.label}</span></strong>
      <label>Metric <select value=${column} onChange=${(e) => setColumn(e.target.value)}>
        ${columns.map((c) => html`<option value=${c}>${columnTitle(c)}</option>`)}
      </select></label>
      <button type="button" onClick=${close}>Close</button>
    </div>
    <${Async} result=${evolution.current}>${(answer) => html`<${EvolutionChart} answer=${rowOverTime(answer)}
      previous=${rowOverTime(evolution.previous)} columns=${[column]} />`}<//>
  </div>`;
}

export function ReportTable({ spec }) {
  const { view, site } = useViewContext();
  const [sort, setSort] = useState({});
  const [search, setSearch] = useState('');
  const pattern = useDebounced(search.trim(), 300);
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState(spec.limit || 25);
  const [flat, setFlat] = useState(false);
  const [evolutionRow, setEvolutionRow] = useState(null);
  useEffect(() => setOffset(0), [pattern, limit, flat, sort.column, sort.order, view.segment]);

  const params = {
    ...reportParams(view), ...spec.params,
    filter_limit: limit, filter_offset: offset || undefined,
    filter_sort_column: sort.column, filter_sort_order: sort.column ? sort.order : undefined,
    filter_pattern: pattern ? literalPattern(pattern) : undefined,
    flat: flat ? 1 : undefined,
  };
  const result = useApi(spec.method, params);
  const rows = Array.isArray(result.data) ? result.data : [];
  const columns = columnsOf(spec, rows);
  const [exporting, setExporting] = useState(null);
  const exportCsv = () => {
    setExporting('Exporting…');
    const { compare: _c, filter_offset: _o, ...csvParams } = params;
    downloadCsv(spec.method, { ...csvParams, filter_limit: -1 }, `${spec.method}-${view.date}.csv`)
      .then(() => setExporting(null), (err) => setExporting(`Export failed: ${err.message}`));
  };
  const tableId = `t-${spec.method.replace(/\W/g, '-')}`;

  return html`<div class="report" data-method=${spec.method}>
    <div class="toolbar">
      ${spec.searchable !== false && html`<label class="search">
        <span class="visually-hidden">Search ${spec.title || spec.method}</span>
        <input type="search" placeholder="Search…" value=${search}
          onInput=${(e) => setSearch(e.target.value)} aria-controls=${tableId} /></label>`}
      ${spec.flat && html`<label class="check"><input type="checkbox" checked=${flat}
          onChange=${(e) => setFlat(e.target.checked)} /> Flat</label>`}
      <button type="button" onClick=${exportCsv} class="export">Export CSV</button>
      ${exporting && html`<span role="status">${exporting}</span>`}
    </div>
    ${evolutionRow && html`<${RowEvolution} spec=${spec} row=${evolutionRow} params=${params}
        columns=${columns} close=${() => setEvolutionRow(null)} />`}
    <${Async} result=${result}>${() => html`
      <div class="table-scroll">
        <table id=${tableId} class=${result.loading ? 'stale' : ''} aria-busy=${result.loading}>
          <thead><tr>
            <${SortHeader} column="label" sort=${sort} setSort=${setSort} />
            ${columns.map((c) => html`<${SortHeader} key=${c} column=${c} sort=${sort} setSort=${setSort} />`)}
          </tr></thead>
          <tbody>
            ${rows.length === 0 && html`<tr><td colspan=${columns.length + 1} class="empty">
              ${pattern ? 'No row matches the search.' : 'No data for this period.'}</td></tr>`}
            <${Rows} rows=${rows} columns=${columns} depth=${0} spec=${spec} params=${params}
              currency=${site.currency} view=${view}
              onEvolution=${spec.evolution === false ? null : setEvolutionRow} />
          </tbody>
        </table>
      </div>
      <div class="pager">
        <button type="button" disabled=${offset === 0}
          onClick=${() => setOffset(Math.max(0, offset - limit))}>‹ Previous</button>
        <span>${rows.length ? `Rows ${offset + 1}–${offset + rows.length}` : ''}</span>
        <button type="button" disabled=${rows.length < limit}
          onClick=${() => setOffset(offset + limit)}>Next ›</button>
        <label>Rows per page <select value=${limit} onChange=${(e) => setLimit(Number(e.target.value))}>
          ${PAGE_SIZES.map((n) => html`<option value=${n}>${n}</option>`)}
        </select></label>
      </div>`}<//>
  </div>`;
}
