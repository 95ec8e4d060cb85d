// What every page is looking at: the view from the URL, the site, and the
// parameters every report call starts from.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export const ViewContext = createContext(null);

export function useViewContext() {
  return useContext(ViewContext);
}

// idSite, period, date, segment (and compare when asked): a report's base.
export function reportParams(view, { compare = true } = {}) {
  return {
    idSite: view.site,
    period: view.period,
    date: view.date,
    segment: view.segment || undefined,
    compare: compare && view.compare === '1' ? 1 : undefined,
  };
}

// A segment narrowed by another (both must hold).
export function andSegment(current, extra) {
  return current ? `${current};${extra}` : extra;
}

// Text as a regular expression that matches it literally (filter_pattern).
export function literalPattern(text) {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
