// The world map of the Locations page: countries shaded by visits, each with
// a title (its name and visits) and, when it has visits, a tab stop; Enter or
// a click narrows the view to its visits. The outlines come from a chunk
// loaded on first use (world-shapes.js), so other pages never pay for them.
// Country names are the API's labels, rendered as text.
import { useEffect, useState } from 'preact/hooks';
import { html, useApi, Async, ErrorBox, Loading } from './ui.js';
import { useViewContext, reportParams, andSegment } from '../lib/context.js';
import { navigate } from '../lib/route.js';
import { formatNumber } from '../lib/format.js';

let shapesLoading = null;
function loadShapes() {
  shapesLoading ??= import('./world-shapes.js');
  return shapesLoading;
}

function useShapes() {
  const [state, setState] = useState({});
  useEffect(() => {
    loadShapes().then((shapes) => setState({ shapes }), (error) => {
      shapesLoading = null;
      setState({ error });
    });
  }, []);
  return state;
}

// Visits as a shade of the accent colour: the square root keeps countries
// with a few visits visible beside one with very many.
function shade(visits, most) {
  if (!visits) return null;
  return `rgba(47, 111, 222, ${(0.15 + 0.85 * Math.sqrt(visits / most)).toFixed(3)})`;
}

function Country({ shape, row, most, view }) {
  const visits = row ? row.nb_visits : 0;
  const name = row ? row.label : shape.name;
  const title = `${name}: ${formatNumber(visits)} visits`;
  const open = () => row && row.segment && navigate(view, { segment: andSegment(view.segment, row.segment) });
  return html`<path d=${shape.d} data-code=${shape.code} class=${visits ? 'country visited' : 'country'}
    style=${visits ? { fill: shade(visits, most) } : undefined}
    tabindex=${visits ? 0 : undefined} role=${visits ? 'button' : undefined} aria-label=${visits ? title : undefined}
    onClick=${open} onKeyDown=${(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } }}>
    <title>${title}</title></path>`;
}

export function WorldMap() {
  const { view } = useViewContext();
  const { shapes, error } = useShapes();
  const countries = useApi('UserCountry.getCountry', { ...reportParams(view, { compare: false }), filter_limit: -1 });
  if (error) return html`<${ErrorBox} error=${error} title="The map could not be loaded" />`;
  if (!shapes) return html`<${Loading} label="Loading the map…" />`;
  return html`<${Async} result=${countries}>${(rows) => {
    const byCode = new Map(rows.map((r) => [r.code, r]));
    const most = Math.max(1, ...rows.map((r) => r.nb_visits));
    return html`<figure class="world-map">
      <svg viewBox=${shapes.VIEWBOX} role="group" aria-label="Visits by country">
        ${shapes.COUNTRY_SHAPES.map((shape) => html`<${Country} key=${shape.code} shape=${shape}
          row=${byCode.get(shape.code)} most=${most} view=${view} />`)}
      </svg>
      <figcaption class="muted">Darker: more visits. Tab to a country for its visits; Enter shows only its visits.</figcaption>
    </figure>`;
  }}<//>`;
}
