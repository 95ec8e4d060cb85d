// The view lives in the URL's hash (#/page?site=1&period=day&date=today&...)
// so a view is a link to share and the back button walks through views.
import { useEffect, useState } from 'preact/hooks';

export const DEFAULT_VIEW = { page: 'visitors-overview', period: 'day', date: 'today' };

export function parseHash(hash) {
  const text = hash.replace(/^#\/?/, '');
  const question = text.indexOf('?');
  const page = decodeURIComponent(question < 0 ? text : text.slice(0, question));
  const view = { ...DEFAULT_VIEW };
  if (page) view.page = page;
  for (const [name, value] of new URLSearchParams(question < 0 ? '' : text.slice(question + 1)))
    view[name] = value;
  return view;
}

export function hashOf(view) {
  const { page, ...rest } = view;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(rest))
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  const q = query.toString();
  return `#/${encodeURIComponent(page)}${q ? '?' + q : ''}`;
}

// A link to `view` with `patch` applied (null removes a key).
export function linkTo(view, patch) {
  const next = { ...view, ...patch };
  for (const key of Object.keys(next)) if (next[key] === null) delete next[key];
  return hashOf(next);
}

export function navigate(view, patch, { replace = false } = {}) {
  const hash = linkTo(view, patch);
  if (replace) history.replaceState(null, '', hash);
  else location.hash = hash;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useView() {
  const [view, setView] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const changed = () => setView(parseHash(location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return view;
}
