// Small pieces every page uses: fetching with loading and error states.
import { h } from 'preact';
import { useLayoutEffect, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { api } from '../lib/api.js';

export const html = htm.bind(h);

// The answer of one API call, refetched when the method or parameters change;
// a newer call cancels the one still running. `method` null skips the call.
// A layout effect, so the call starts as soon as the page is rendered rather
// than after the browser has painted it: a frame sooner on the first view.
export function useApi(method, params) {
  const key = method ? method + '?' + JSON.stringify(params) : '';
  const [state, setState] = useState({ loading: Boolean(method) });
  const [generation, setGeneration] = useState(0);
  useLayoutEffect(() => {
    if (!method) return undefined;
    const controller = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    api(method, params, { signal: controller.signal }).then(
      (data) => setState({ data, loading: false }),
      (error) => { if (error.name !== 'AbortError') setState({ error, loading: false }); },
    );
    return () => controller.abort();
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

export function Loading({ label = 'Loading…' }) {
  return html`<p class="loading" role="status" aria-live="polite">${label}</p>`;
}

export function ErrorBox({ error, title = 'This could not be loaded' }) {
  const message = error && (error.message || String(error));
  return html`<div class="error" role="alert"><strong>${title}.</strong> ${message}</div>`;
}

// Loading, error or the children made from the data.
export function Async({ result, children, empty }) {
  if (result.error) return html`<${ErrorBox} error=${result.error} />`;
  if (result.data === undefined) return html`<${Loading} />`;
  if (empty && empty(result.data)) return html`<p class="empty">No data for this period.</p>`;
  return children(result.data);
}

export function Section({ title, children, actions }) {
  return html`<section class="card">
    <header class="card-head"><h2>${title}</h2>${actions}</header>
    ${children}
  </section>`;
}
