// How numbers and columns read in the dashboard. Every column of the
// Reporting API has a title here; unknown columns show their API name.
const COLUMN_TITLES = {
  label: 'Label',
  nb_visits: 'Visits',
  nb_uniq_visitors: 'Unique visitors',
  nb_users: 'Users',
  nb_actions: 'Actions',
  nb_visits_converted: 'Converted visits',
  bounce_rate: 'Bounce rate',
  bounce_count: 'Bounces',
  nb_actions_per_visit: 'Actions per visit',
  avg_time_on_site: 'Avg. time on site',
  max_actions: 'Most actions',
  sum_visit_length: 'Total time',
  nb_pageviews: 'Pageviews',
  nb_uniq_pageviews: 'Unique pageviews',
  nb_hits: 'Hits',
  sum_time_spent: 'Total time spent',
  avg_time_on_page: 'Avg. time on page',
  entry_nb_visits: 'Entrances',
  entry_nb_actions: 'Actions after entrance',
  entry_bounce_count: 'Bounces on entrance',
  entry_sum_visit_length: 'Time after entrance',
  exit_nb_visits: 'Exits',
  exit_rate: 'Exit rate',
  nb_events: 'Events',
  sum_event_value: 'Total value',
  min_event_value: 'Min. value',
  max_event_value: 'Max. value',
  avg_event_value: 'Avg. value',
  nb_events_with_value: 'Events with a value',
  nb_impressions: 'Impressions',
  nb_interactions: 'Interactions',
  interaction_rate: 'Interaction rate',
  nb_conversions: 'Conversions',
  conversion_rate: 'Conversion rate',
  revenue: 'Revenue',
  revenue_per_visit: 'Revenue per visit',
  quantity: 'Quantity',
  orders: 'Orders',
  abandoned_carts: 'Abandoned carts',
  avg_price: 'Avg. price',
  avg_quantity: 'Avg. quantity',
  nb_customers: 'Customers',
  nb_orders: 'Orders',
  avg_order_value: 'Avg. order value',
  avg_order_revenue: 'Avg. order value',
  lifetime_orders: 'Lifetime orders',
  lifetime_revenue: 'Lifetime revenue',
  top_channels: 'Top channels',
  nb_visitors: 'Visitors',
  items: 'Items',
  items_per_order: 'Items per order',
  revenue_subtotal: 'Subtotal',
  revenue_tax: 'Tax',
  revenue_shipping: 'Shipping',
  revenue_discount: 'Discount',
  nb_downloads: 'Downloads',
  nb_outlinks: 'Outlinks',
  nb_searches: 'Site searches',
  nb_keywords: 'Keywords',
  nb_content_impressions: 'Content impressions',
  nb_content_interactions: 'Content interactions',
  referrals: 'Transitions',
};

// Columns a table leaves out unless asked: sums that only feed the rates.
export const HIDDEN_COLUMNS = new Set([
  'sum_visit_length', 'max_actions', 'bounce_count', 'nb_users', 'entry_sum_visit_length',
  'entry_nb_actions', 'entry_bounce_count', 'sum_time_spent', 'nb_events_with_value',
  'min_event_value', 'max_event_value', 'nb_uniq_downloads', 'nb_uniq_outlinks',
]);

// Keys of a row that describe it rather than measure it.
export const ROW_META = new Set(['label', 'idsubdatatable', 'subtable', 'segment', 'url', 'code',
  'comparisons', 'compareDate', 'logo']);

export function columnTitle(key) {
  if (COLUMN_TITLES[key]) return COLUMN_TITLES[key];
  const goal = /^goal_(\w+?)_(.+)$/.exec(key);
  if (goal) return `${goal[1] === 'ecommerceOrder' ? 'Orders' : 'Goal ' + goal[1]}: ${columnTitle(goal[2])}`;
  const offset = /^(visitors|retention|converted|orders|revenue)_(\d+)$/.exec(key);
  if (offset) return `${columnTitle(offset[1])} +${offset[2]}`;
  return key;
}

const TIME_COLUMNS = /^(avg_time_on_site|avg_time_on_page|sum_visit_length|sum_time_spent|entry_sum_visit_length|visitDuration|totalVisitDuration)/;
const MONEY_COLUMNS = /revenue|avg_price|order_value|avg_order_revenue/;

export function formatDuration(seconds) {
  const s = Math.round(Number(seconds) || 0);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function formatNumber(value) {
  if (typeof value !== 'number') return value === undefined || value === null ? '' : String(value);
  return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

export function formatMoney(value, currency) {
  if (typeof value !== 'number') return formatNumber(value);
  try {
    return value.toLocaleString(undefined, { style: 'currency', currency: currency || 'USD' });
  } catch {
    return formatNumber(value);
  }
}

// A cell's text: durations, money in the site's currency, numbers, strings.
export function formatCell(key, value, currency) {
  if (TIME_COLUMNS.test(key) && typeof value === 'number') return formatDuration(value);
  if (MONEY_COLUMNS.test(key)) return formatMoney(value, currency);
  return formatNumber(value);
}

// "31%" and 31 both read as 31, for comparisons and charts.
export function numeric(value) {
  if (typeof value === 'number') return value;
  const n = parseFloat(value);
  return Number.isFinite(n) ? n : null;
}

// The change from `before` to `now` as "+12%", or "" when it means nothing.
export function change(now, before) {
  const a = numeric(now), b = numeric(before);
  if (a === null || b === null) return '';
  if (b === 0) return a === 0 ? '0%' : 'new';
  const pct = Math.round(((a - b) / Math.abs(b)) * 100);
  return `${pct > 0 ? '+' : ''}${pct}%`;
}

// A tracked URL is shown as a link only when it is http(s): a
// `javascript:` URL stored by a hostile hit must never become clickable.
export function safeHref(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
}
