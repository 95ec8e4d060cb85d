// The frame around every page: login, site picker, date picker, segment
// bar, navigation menu.
import { useState, useEffect, useRef } from 'preact/hooks';
import { html, ErrorBox } from './ui.js';
import { login } from '../lib/api.js';
import { linkTo, navigate } from '../lib/route.js';
import { PERIODS, rangeOf, resolveDay, shiftDate, describePeriod } from '../lib/period.js';
import { SegmentBar } from './segment.js';

export function LoginForm({ onLogin, problem }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(problem || null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(name, password));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login">
    <h1>Tally</h1>
    <form onSubmit=${submit} aria-label="Log in">
      <label>Login <input name="login" autocomplete="username" required value=${name}
        onInput=${(e) => setName(e.target.value)} /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required
        value=${password} onInput=${(e) => setPassword(e.target.value)} /></label>
      <button type="submit" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
      ${error && html`<${ErrorBox} error=${error} title="Not logged in" />`}
    </form>
  </main>`;
}

function SitePicker({ sites, view }) {
  return html`<label class="picker">Site
    <select value=${view.site} onChange=${(e) => navigate(view, { site: e.target.value })}>
      ${sites.map((s) => html`<option value=${s.idsite}>${s.name}</option>`)}
    </select></label>`;
}

function DatePicker({ view, site }) {
  const tz = site.timezone;
  const setPeriod = (period) => {
    if (period === view.period) return;
    if (period === 'range') {
      const day = resolveDay(view.date.split(',')[0], tz);
      navigate(view, { period, date: `${shiftDate('day', day, -6, tz)},${day}` });
    } else {
      navigate(view, { period, date: view.period === 'range' ? rangeOf(view.date, tz)[1] : view.date });
    }
  };
  const [from, to] = view.period === 'range' ? rangeOf(view.date, tz) : [];
  return html`<fieldset class="dates">
    <legend class="visually-hidden">Period</legend>
    <label>Period <select value=${view.period} onChange=${(e) => setPeriod(e.target.value)}>
      ${PERIODS.map((p) => html`<option value=${p}>${p}</option>`)}
    </select></label>
    <button type="button" aria-label="Previous period"
      onClick=${() => navigate(view, { date: shiftDate(view.period, view.date, -1, tz) })}>‹</button>
    ${view.period === 'range' ? html`
      <label>From <input type="date" value=${from} max=${to}
        onChange=${(e) => e.target.value && navigate(view, { date: `${e.target.value},${to}` })} /></label>
      <label>To <input type="date" value=${to} min=${from}
        onChange=${(e) => e.target.value && navigate(view, { date: `${from},${e.target.value}` })} /></label>`
    : html`<label>Date <input type="date" value=${resolveDay(view.date, tz)}
        onChange=${(e) => e.target.value && navigate(view, { date: e.target.value })} /></label>`}
    <button type="button" aria-label="Next period"
      onClick=${() => navigate(view, { date: shiftDate(view.period, view.date, 1, tz) })}>›</button>
    <button type="button" onClick=${() => navigate(view, { date: view.period === 'range' ? 'last7' : 'today' })}
      disabled=${view.date === 'today'}>Today</button>
    <label class="check"><input type="checkbox" checked=${view.compare === '1'}
      onChange=${(e) => navigate(view, { compare: e.target.checked ? '1' : null })} />
      Compare with previous period</label>
    <span class="period-label" aria-live="polite">${describePeriod(view.period, view.date, tz)}</span>
  </fieldset>`;
}

export function Nav({ sections, view, onNavigate }) {
  return html`<nav class="menu" aria-label="Reports">
    ${sections.map((section) => html`<div class="menu-section">
      <h2>${section.title}</h2>
      <ul>${section.pages.filter((p) => !p.hidden).map((p) => html`<li>
        <a href=${linkTo(view, { page: p.id })} aria-current=${view.page === p.id ? 'page' : undefined}
          onClick=${onNavigate}>${p.title}</a></li>`)}</ul>
    </div>`)}
  </nav>`;
}

export function Shell({ session, sites, view, site, sections, page, onLogout }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const heading = useRef(null);
  // A new page moves the focus to its heading, so keyboard and screen-reader
  // users land where the content changed.
  useEffect(() => { if (heading.current && document.activeElement?.closest?.('.menu')) heading.current.focus(); }, [view.page]);
  const Page = page.component;
  return html`<div class=${'shell' + (menuOpen ? ' menu-open' : '')}>
    <a class="skip" href="#content" onClick=${(e) => { e.preventDefault(); heading.current?.focus(); }}>Skip to content</a>
    <header class="top">
      <div class="brand"><img src="/assets/favicon.svg" alt="" width="24" height="24" /> <span>Tally</span></div>
      <button type="button" class="menu-toggle" aria-expanded=${menuOpen}
        onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
      <${SitePicker} sites=${sites} view=${view} />
      <${DatePicker} view=${view} site=${site} />
      <div class="user">
        <span>${session.login}</span>
        <button type="button" onClick=${onLogout}>Log out</button>
      </div>
    </header>
    <${SegmentBar} view=${view} />
    <div class="body">
      <${Nav} sections=${sections} view=${view} onNavigate=${() => setMenuOpen(false)} />
      <main id="content">
        <h1 tabindex="-1" ref=${heading}>${page.title}</h1>
        <${Page} key=${view.page + '|' + view.site} page=${page} />
      </main>
    </div>
  </div>`;
}

export function FatalError({ error }) {
  return html`<main class="login"><h1>Tally</h1><${ErrorBox} error=${error} title="The dashboard could not start" /></main>`;
}
