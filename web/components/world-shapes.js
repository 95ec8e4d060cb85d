// The world's country outlines as SVG paths, loaded only by the Locations
// page (a chunk of its own, docs/dashboard.md): Natural Earth's 1:110m
// countries from the npm package world-atlas (TopoJSON, ISC; the data is
// public domain), decoded by topojson-client, drawn in an equirectangular
// projection (x = longitude, y = -latitude), the simplest that needs no
// library. Natural Earth cuts rings at the antimeridian, so no ring crosses
// the map's edge. world-atlas names countries by ISO 3166 numeric code;
// i18n-iso-countries' code table turns those into the alpha-2 codes of
// UserCountry.getCountry.
import { feature } from 'topojson-client';
import countries from 'world-atlas/countries-110m.json';
import isoCodes from 'i18n-iso-countries/codes.json';

// Antarctica is left out: nobody visits from there, and it would take a
// fifth of the map. The map spans 180°W–180°E and 84°N–56°S.
const NORTH = 84, SOUTH = -56;
export const VIEWBOX = `0 0 360 ${NORTH - SOUTH}`;

const ALPHA2_BY_NUMERIC = new Map(isoCodes.map(([alpha2, , numeric]) => [numeric, alpha2.toLowerCase()]));

function ringPath(ring) {
  return 'M' + ring.map(([lon, lat]) => `${(lon + 180).toFixed(1)},${(NORTH - lat).toFixed(1)}`).join('L') + 'Z';
}

function geometryPath(geometry) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polygons.map((rings) => rings.map(ringPath).join('')).join('');
}

// [{code, name, d}] for every country with an ISO code, in the package's order.
export const COUNTRY_SHAPES = feature(countries, countries.objects.countries).features
  .filter((f) => f.geometry && ALPHA2_BY_NUMERIC.has(f.id) && f.id !== '010')
  .map((f) => ({ code: ALPHA2_BY_NUMERIC.get(f.id), name: f.properties.name, d: geometryPath(f.geometry) }));
