// Conversions: goals, ecommerce, funnels, attribution, transitions and
// cohorts: pages that pick a goal, a funnel or a page before their reports.
import { useState } from 'preact/hooks';
import { html, useApi, Async, Section } from '../components/ui.js';
import { Kpis } from '../components/kpis.js';
import { EvolutionChart, useEvolution } from '../components/chart.js';
import { ReportTable } from '../components/table.js';
import { useViewContext, reportParams } from '../lib/context.js';
import { navigate } from '../lib/route.js';
import { formatNumber, numeric } from '../lib/format.js';

const CONVERSION = ['nb_conversions', 'nb_visits_converted', 'conversion_rate', 'revenue'];

export function GoalsOverview() {
  const { view, site } = useViewContext();
  const goals = useApi('Goals.getGoals', { idSite: view.site });
  const totals = useApi('Goals.get', reportParams(view));
  const evolution = useEvolution('Goals.get', reportParams(view, { compare: false }));
  return html`
    <${Section} title="All goals">
      <${Async} result=${totals}>${(row) => html`<${Kpis} row=${row} columns=${CONVERSION} currency=${site.currency} />`}<//>
      <${Async} result=${evolution.current}>${(answer) => html`<${EvolutionChart} answer=${answer}
        previous=${evolution.previous} columns=${['nb_conversions']} />`}<//>
    <//>
    <${Async} result=${goals} empty=${(g) => !g.length}>${(list) => list.map((goal) => html`
      <${Section} key=${goal.idgoal} title=${'Goal: ' + goal.name}>
        <${Async} result=${totals}>${(row) => html`<${Kpis} currency=${site.currency}
          row=${Object.fromEntries(CONVERSION.map((c) => [c, row[`goal_${goal.idgoal}_${c}`]]))} columns=${CONVERSION} />`}<//>
      <//>`)}<//>
    <${Section} title="Conversions by channel">
      <${ReportTable} spec=${{ method: 'Referrers.getReferrerType', title: 'Channels',
        params: { filter_update_columns_when_show_all_goals: 1 },
        columns: ['nb_visits', 'nb_conversions', 'conversion_rate', 'revenue'] }} />
    <//>
    <${Section} title="Days to conversion">
      <${ReportTable} spec=${{ method: 'Goals.getDaysToConversion', searchable: false, limit: 100 }} />
    <//>
    <${Section} title="Visits to conversion">
      <${ReportTable} spec=${{ method: 'Goals.getVisitsUntilConversion', searchable: false, limit: 100 }} />
    <//>`;
}

export function Ecommerce() {
  const { view, site } = useViewContext();
  const orders = useApi('Goals.get', { ...reportParams(view), idGoal: 'ecommerceOrder' });
  const carts = useApi('Goals.get', { ...reportParams(view), idGoal: 'ecommerceAbandonedCart' });
  return html`
    <${Section} title="Orders">
      <${Async} result=${orders}>${(row) => html`<${Kpis} row=${row} currency=${site.currency}
        columns=${['nb_conversions', 'conversion_rate', 'revenue', 'avg_order_revenue', 'items', 'items_per_order']}
        titles=${{ nb_conversions: 'Orders' }} />`}<//>
    <//>
    <${Section} title="Abandoned carts">
      <${Async} result=${carts}>${(row) => html`<${Kpis} row=${row} currency=${site.currency}
        columns=${['nb_conversions', 'revenue', 'items']} titles=${{ nb_conversions: 'Abandoned carts', revenue: 'Value left in carts' }} />`}<//>
    <//>
    ${[['Goals.getItemsSku', 'Products by SKU'], ['Goals.getItemsName', 'Products by name'],
      ['Goals.getItemsCategory', 'Product categories']].map(([method, title]) => html`
      <${Section} key=${method} title=${title}><${ReportTable} spec=${{ method, title }} /><//>`)}
    <${Section} title="Products left in abandoned carts">
      <${ReportTable} spec=${{ method: 'Goals.getItemsName', title: 'Products left in carts', params: { abandonedCarts: 1 } }} />
    <//>`;
}

// A select bound to a key of the view (idGoal, idFunnel, ...).
export function ViewSelect({ label, name, options, value }) {
  const { view } = useViewContext();
  return html`<label class="picker">${label}
    <select value=${value} onChange=${(e) => navigate(view, { [name]: e.target.value })}>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></label>`;
}

export function Funnels() {
  const { view } = useViewContext();
  const funnels = useApi('Funnels.getFunnels', { idSite: view.site });
  return html`<${Async} result=${funnels} empty=${(f) => !f.length}>${(list) => {
    const id = view.idFunnel || String(list[0].idfunnel);
    const params = { idFunnel: id };
    return html`<${ViewSelect} label="Funnel" name="idFunnel" value=${id}
        options=${list.map((f) => [String(f.idfunnel), f.name])} />
      <${Section} title="Steps"><${ReportTable} key=${'flow' + id}
        spec=${{ method: 'Funnels.getFunnelFlow', title: 'Funnel steps', params, searchable: false }} /><//>
      <${Section} title="Where visits entered"><${ReportTable} key=${'in' + id}
        spec=${{ method: 'Funnels.getFunnelEntries', title: 'Entries', params, flat: true }} /><//>
      <${Section} title="Where visits left"><${ReportTable} key=${'out' + id}
        spec=${{ method: 'Funnels.getFunnelExits', title: 'Exits', params, flat: true }} /><//>`;
  }}<//>`;
}

export function Attribution() {
  const { view } = useViewContext();
  const goals = useApi('Goals.getGoals', { idSite: view.site });
  const options = [['', 'All goals and orders'], ['ecommerceOrder', 'Orders'],
    ...(Array.isArray(goals.data) ? goals.data.map((g) => [String(g.idgoal), g.name]) : [])];
  const days = view.days || '30';
  const params = { idGoal: view.idGoal || undefined, numDaysPriorToConversion: days };
  return html`<div class="filters">
      <${ViewSelect} label="Conversions" name="idGoal" value=${view.idGoal || ''} options=${options} />
      <${ViewSelect} label="Look-back window" name="days" value=${days}
        options=${['7', '30', '60', '90'].map((d) => [d, `${d} days`])} />
    </div>
    <${Section} title="Credit by channel and model">
      <${ReportTable} key=${'a' + view.idGoal + days} spec=${{ method: 'MultiChannelConversionAttribution.getChannelAttribution', title: 'Attribution', params }} />
    <//>
    <${Section} title="Conversion paths">
      <${ReportTable} key=${'p' + view.idGoal + days} spec=${{ method: 'MultiChannelConversionAttribution.getConversionPaths', title: 'Paths', params }} />
    <//>`;
}

function TransitionList({ title, rows }) {
  return html`<div class="transition-list"><h3>${title}</h3>
    ${rows && rows.length ? html`<ul>${rows.map((r, i) => html`<li key=${i}>
      <span class="text">${r.label}</span> <span class="num">${formatNumber(r.referrals)}</span>
      ${r.details && html`<ul>${r.details.map((d, j) => html`<li key=${j}><span class="text">${d.label}</span>
        <span class="num">${formatNumber(d.referrals)}</span></li>`)}</ul>`}
    </li>`)}</ul>` : html`<p class="muted">None.</p>`}
  </div>`;
}

export function Transitions() {
  const { view } = useViewContext();
  const [typed, setTyped] = useState(view.pageUrl || '');
  const pages = useApi('Actions.getPageUrls', { ...reportParams(view, { compare: false }), flat: 1, filter_limit: 50 });
  const transitions = useApi(view.pageUrl ? 'Transitions.getTransitionsForPageUrl' : null,
    { ...reportParams(view, { compare: false }), pageUrl: view.pageUrl, filter_limit: 10 });
  const urls = Array.isArray(pages.data) ? pages.data.filter((p) => p.url).map((p) => p.url) : [];
  return html`
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); navigate(view, { pageUrl: typed }); }}>
      <label>Page URL <input list="transition-pages" value=${typed} size="50"
        onInput=${(e) => setTyped(e.target.value)} placeholder="https://…" /></label>
      <datalist id="transition-pages">${urls.map((u) => html`<option value=${u} />`)}</datalist>
      <button type="submit">Show transitions</button>
    </form>
    ${!view.pageUrl ? html`<p class="muted">Pick a page (the pages report links here too).</p>`
      : html`<${Async} result=${transitions}>${(t) => html`
        <${Section} title=${'Transitions of ' + view.pageUrl}>
          <${Kpis} row=${t.pageMetrics} columns=${['pageviews', 'entries', 'exits', 'loops']}
            titles=${{ pageviews: 'Pageviews', entries: 'Entries', exits: 'Exits', loops: 'Reloads' }} />
          <div class="transitions">
            <div>
              <${TransitionList} title="Came from channels" rows=${t.referrers} />
              <${TransitionList} title="Previous pages" rows=${t.previousPages} />
              <${TransitionList} title="Previous site searches" rows=${t.previousSiteSearches} />
            </div>
            <div>
              <${TransitionList} title="Next pages" rows=${t.followingPages} />
              <${TransitionList} title="Next site searches" rows=${t.followingSiteSearches} />
              <${TransitionList} title="Outlinks" rows=${t.outlinks} />
              <${TransitionList} title="Downloads" rows=${t.downloads} />
            </div>
          </div>
        <//>`}<//>`}`;
}

export function Cohorts() {
  const { view } = useViewContext();
  const cohortPeriod = view.cohortPeriod || 'month';
  const cohorts = useApi('Cohorts.get', { ...reportParams(view, { compare: false }), cohortPeriod });
  return html`<div class="filters">
      <${ViewSelect} label="Cohorts by" name="cohortPeriod" value=${cohortPeriod}
        options=${[['day', 'day'], ['week', 'week'], ['month', 'month']]} />
      <span class="muted">Cohorts are the visitors whose first visit falls in the chosen period; pick a range or a year for several.</span>
    </div>
    <${Async} result=${cohorts} empty=${(rows) => !rows.length}>${(rows) => {
      const offsets = Math.max(0, ...rows.map((r) => Object.keys(r).filter((k) => k.startsWith('retention_')).length));
      return html`<div class="table-scroll"><table class="cohorts">
        <thead><tr><th scope="col">Cohort</th><th scope="col" class="num">Visitors</th>
          ${Array.from({ length: offsets }, (_, k) => html`<th scope="col" class="num">+${k}</th>`)}</tr></thead>
        <tbody>${rows.map((r) => html`<tr key=${r.label}><th scope="row">${r.label}</th>
          <td class="num">${formatNumber(r.nb_visitors)}</td>
          ${Array.from({ length: offsets }, (_, k) => {
            const share = numeric(r[`retention_${k}`]);
            return html`<td class="num heat" title=${r[`visitors_${k}`] !== undefined ? `${r[`visitors_${k}`]} visitors` : ''}
              style=${{ backgroundColor: share === null ? 'transparent' : `rgba(47, 111, 222, ${Math.min(1, share / 100) * 0.8 + 0.05})` }}>
              ${r[`retention_${k}`] ?? ''}</td>`;
          })}
        </tr>`)}</tbody>
      </table></div>`;
    }}<//>`;
}
