// Visitors: the overview with its evolution chart, real-time counters, the
// visitor log and one visitor's profile; and new vs returning visits.
import { useEffect, useState } from 'preact/hooks';
import { html, useApi, Async, Section } from '../components/ui.js';
import { Kpis } from '../components/kpis.js';
import { EvolutionChart, useEvolution } from '../components/chart.js';
import { ReportTable } from '../components/table.js';
import { useViewContext, reportParams } from '../lib/context.js';
import { linkTo } from '../lib/route.js';
import { columnTitle, formatDuration, formatMoney, safeHref } from '../lib/format.js';

const SUMMARY = ['nb_visits', 'nb_uniq_visitors', 'nb_actions', 'nb_actions_per_visit',
  'avg_time_on_site', 'bounce_rate', 'nb_pageviews', 'nb_visits_converted'];
const ACTIONS = ['nb_pageviews', 'nb_uniq_pageviews', 'nb_downloads', 'nb_outlinks', 'nb_searches',
  'nb_events', 'nb_content_impressions'];

export function Overview() {
  const { view, site } = useViewContext();
  const [metric, setMetric] = useState('nb_visits');
  const summary = useApi('VisitsSummary.get', reportParams(view));
  const actions = useApi('Actions.get', reportParams(view));
  const evolution = useEvolution('VisitsSummary.get', reportParams(view, { compare: false }));
  return html`
    <${Section} title="Visits">
      <${Async} result=${summary}>${(row) => html`<${Kpis} row=${row} columns=${SUMMARY} currency=${site.currency} />`}<//>
    <//>
    <${Section} title="Evolution over time" actions=${html`<label>Metric
        <select value=${metric} onChange=${(e) => setMetric(e.target.value)}>
          ${SUMMARY.map((c) => html`<option value=${c}>${columnTitle(c)}</option>`)}
        </select></label>`}>
      <${Async} result=${evolution.current}>${(answer) => html`<${EvolutionChart} answer=${answer}
        previous=${evolution.previous} columns=${[metric]} />`}<//>
    <//>
    <${Section} title="Actions">
      <${Async} result=${actions}>${(row) => html`<${Kpis} row=${row} columns=${ACTIONS} />`}<//>
    <//>`;
}

export function VisitorTypes() {
  const { view, site } = useViewContext();
  const frequency = useApi('VisitFrequency.get', reportParams(view));
  const both = ['nb_visits', 'nb_uniq_visitors', 'nb_actions_per_visit', 'avg_time_on_site', 'bounce_rate'];
  return html`
    <${Section} title="New and returning visits">
      <${Async} result=${frequency}>${(row) => html`
        ${['new', 'returning'].map((kind) => {
          const pick = (r) => r && Object.fromEntries(both.map((c) => [c, r[`${c}_${kind}`]]));
          const shown = { ...pick(row), comparisons: row.comparisons && [pick(row.comparisons[0])] };
          return html`<h3>${kind === 'new' ? 'New visits' : 'Returning visits'}</h3>
            <${Kpis} row=${shown} columns=${both} currency=${site.currency} />`;
        })}`}<//>
    <//>
    <${Section} title="Visitor types">
      <${ReportTable} spec=${{ method: 'VisitFrequency.getVisitorTypes', title: 'Visitor types', searchable: false,
        columns: ['nb_visits', 'nb_uniq_visitors', 'nb_actions', 'nb_visits_converted'] }} />
    <//>`;
}

function describeAction(action, currency) {
  switch (action.type) {
    case 'action': return { kind: 'Page', text: action.pageTitle || action.url, url: action.url, detail: action.timeSpent !== undefined ? formatDuration(action.timeSpent) : '' };
    case 'event': return { kind: 'Event', text: [action.eventCategory, action.eventAction, action.eventName].filter(Boolean).join(' › '), detail: action.eventValue ?? '' };
    case 'outlink': return { kind: 'Outlink', text: action.url, url: action.url };
    case 'download': return { kind: 'Download', text: action.url, url: action.url };
    case 'search': return { kind: 'Site search', text: action.siteSearchKeyword, detail: action.siteSearchCategory || '' };
    case 'contentImpression':
    case 'contentInteraction': return { kind: action.type === 'contentImpression' ? 'Content shown' : 'Content used', text: [action.contentName, action.contentPiece].filter(Boolean).join(' › ') };
    case 'goal': return { kind: 'Goal', text: action.goalName ?? `Goal ${action.goalId}`, detail: action.revenue ? formatMoney(action.revenue, currency) : '' };
    case 'ecommerceOrder': return { kind: 'Order', text: action.orderId, detail: formatMoney(action.revenue, currency) };
    case 'cartUpdate': return { kind: 'Cart update', text: '', detail: formatMoney(action.revenue, currency) };
    default: return { kind: action.type, text: '' };
  }
}

// One visit of the log or a profile. Every field came from a tracked hit
// and is rendered as text.
export function VisitCard({ visit, view, currency }) {
  const when = new Date(visit.firstActionTimestamp * 1000);
  const referrer = visit.referrerType === 'direct' ? 'Direct entry'
    : [visit.referrerName, visit.referrerKeyword].filter(Boolean).join(' — ') || visit.referrerType;
  return html`<article class="visit">
    <header>
      <time datetime=${when.toISOString()}>${visit.serverDate} ${when.toLocaleTimeString()}</time>
      <span>${visit.country || visit.countryCode}${visit.city ? ', ' + visit.city : ''}</span>
      <span>${visit.deviceType} · ${visit.browserName} ${visit.browserVersion} · ${visit.operatingSystemName}</span>
      <span>${formatDuration(visit.visitDuration)} · ${visit.actions} actions</span>
      <span class="referrer">From: ${referrer}${visit.campaignName ? ' · campaign ' + visit.campaignName : ''}</span>
      ${visit.revenue ? html`<span>Revenue ${formatMoney(visit.revenue, currency)}</span>` : null}
      <a href=${linkTo(view, { page: 'visitor-profile', visitorId: visit.visitorId })}>
        Visitor ${visit.visitorId}${visit.userId ? ' (' + visit.userId + ')' : ''}</a>
    </header>
    <ol class="actions">
      ${(visit.actionDetails || []).map((action, i) => {
        const { kind, text, url, detail } = describeAction(action, currency);
        const href = safeHref(url);
        return html`<li key=${i}><span class="kind">${kind}</span>
          ${href ? html`<a href=${href} target="_blank" rel="noopener noreferrer" class="text">${text}</a>`
            : html`<span class="text">${text}</span>`}
          ${detail !== '' && html` <span class="muted">${detail}</span>`}</li>`;
      })}
    </ol>
  </article>`;
}

const LOG_PAGE = 20;

export function VisitorLog() {
  const { view, site } = useViewContext();
  const [offset, setOffset] = useState(0);
  const visits = useApi('Live.getLastVisitsDetails', {
    ...reportParams(view, { compare: false }), filter_limit: LOG_PAGE, filter_offset: offset || undefined,
  });
  return html`<${Async} result=${visits} empty=${(v) => !v.length && offset === 0}>${(list) => html`
    <div class="visit-log">${list.map((v) => html`<${VisitCard} key=${v.idVisit} visit=${v} view=${view} currency=${site.currency} />`)}</div>
    <div class="pager">
      <button type="button" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - LOG_PAGE))}>‹ Newer</button>
      <button type="button" disabled=${list.length < LOG_PAGE} onClick=${() => setOffset(offset + LOG_PAGE)}>Older ›</button>
    </div>`}<//>`;
}

export function VisitorProfile() {
  const { view, site } = useViewContext();
  const profile = useApi('Live.getVisitorProfile', {
    idSite: view.site, visitorId: view.visitorId,
    ...(view.visitorId ? {} : { period: view.period, date: view.date, segment: view.segment }),
  });
  return html`<${Async} result=${profile}>${(p) => html`
    <${Section} title=${'Visitor ' + p.visitorId + (p.userId ? ' (' + p.userId + ')' : '')}>
      <${Kpis} row=${p} currency=${site.currency} columns=${['totalVisits', 'totalActions', 'totalPageViews', 'totalConversions', 'totalRevenue', 'totalVisitDuration']}
        titles=${{ totalVisits: 'Visits', totalActions: 'Actions', totalPageViews: 'Pageviews', totalConversions: 'Conversions', totalRevenue: 'Revenue', totalVisitDuration: 'Time on site' }} />
      <p>First visit ${p.firstVisit?.date} (${p.firstVisit?.referrerType} ${p.firstVisit?.referrerName}),
        last visit ${p.lastVisit?.date} (${p.lastVisit?.referrerType} ${p.lastVisit?.referrerName}).</p>
      <p>Devices: ${(p.devices || []).map((d) => `${d.type} (${d.count})`).join(', ')}.
        Countries: ${(p.countries || []).map((c) => `${c.prettyName} (${c.nb_visits})`).join(', ')}.</p>
    <//>
    <${Section} title="Last visits">
      ${(p.lastVisits || []).map((v) => html`<${VisitCard} key=${v.idVisit} visit=${v} view=${view} currency=${site.currency} />`)}
    <//>`}<//>`;
}

const REFRESH_MS = 10000;

export function Realtime() {
  const { view, site } = useViewContext();
  const segment = view.segment || undefined;
  const halfHour = useApi('Live.getCounters', { idSite: view.site, lastMinutes: 30, segment });
  const day = useApi('Live.getCounters', { idSite: view.site, lastMinutes: 1440, segment });
  const latest = useApi('Live.getLastVisitsDetails', { idSite: view.site, filter_limit: 10, segment });
  useEffect(() => {
    const timer = setInterval(() => { halfHour.reload(); day.reload(); latest.reload(); }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const counters = (result) => html`<${Async} result=${result}>${(rows) => html`<${Kpis} row=${rows[0]}
      columns=${['visits', 'visitors', 'actions', 'visitsConverted']}
      titles=${{ visits: 'Visits', visitors: 'Visitors', actions: 'Actions', visitsConverted: 'Converted visits' }} />`}<//>`;
  return html`
    <p class="muted">Refreshes every ${REFRESH_MS / 1000} seconds.</p>
    <${Section} title="Last 30 minutes">${counters(halfHour)}<//>
    <${Section} title="Last 24 hours">${counters(day)}<//>
    <${Section} title="Latest visits">
      <${Async} result=${latest} empty=${(v) => !v.length}>${(list) => list.map((v) => html`
        <${VisitCard} key=${v.idVisit} visit=${v} view=${view} currency=${site.currency} />`)}<//>
    <//>`;
}
