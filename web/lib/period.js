// Periods and dates as the Reporting API takes them (docs/api.md, "Dates and
// periods"), and the spans the evolution charts cover. Days are plain
// YYYY-MM-DD strings in the site's time zone; arithmetic is done in UTC so no
// daylight-saving shift moves a day.
export const PERIODS = ['day', 'week', 'month', 'year', 'range'];

const DAY_MS = 86400000;

export function todayIn(timezone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: timezone || 'UTC' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function toUtc(day) {
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

function fromUtc(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day, n) {
  return fromUtc(toUtc(day) + n * DAY_MS);
}

function addMonths(day, n) {
  const d = new Date(toUtc(day));
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  return fromUtc(d.getTime());
}

const isDay = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s);

// `today`/`yesterday` to a day in the site's time zone; days stay as they are.
export function resolveDay(date, timezone) {
  const today = todayIn(timezone);
  if (date === 'today' || date === 'now' || !date) return today;
  if (date === 'yesterday') return addDays(today, -1);
  return isDay(date) ? date : today;
}

// [first, last] day of a range date "A,B" (either may be today/yesterday).
export function rangeOf(date, timezone) {
  const [a, b] = String(date || '').split(',');
  const from = resolveDay(a, timezone);
  const to = b ? resolveDay(b, timezone) : from;
  return from <= to ? [from, to] : [to, from];
}

// The day a period=P view starts on, for a date in it.
export function periodStart(period, day) {
  if (period === 'week') {
    const weekday = (new Date(toUtc(day)).getUTCDay() + 6) % 7; // Monday is 0
    return addDays(day, -weekday);
  }
  if (period === 'month') return day.slice(0, 8) + '01';
  if (period === 'year') return day.slice(0, 5) + '01-01';
  return day;
}

// The same date moved by `steps` periods (the ‹ › buttons).
export function shiftDate(period, date, steps, timezone) {
  if (period === 'range') {
    const [from, to] = rangeOf(date, timezone);
    const length = Math.round((toUtc(to) - toUtc(from)) / DAY_MS) + 1;
    return `${addDays(from, steps * length)},${addDays(to, steps * length)}`;
  }
  const day = resolveDay(date, timezone);
  if (period === 'week') return addDays(day, 7 * steps);
  if (period === 'month') return addMonths(day, steps);
  if (period === 'year') return addMonths(day, 12 * steps);
  return addDays(day, steps);
}

// The parameters of an evolution over time ending with the viewed period:
// the last 30 days, 26 weeks, 12 months or 5 years; a range is shown by day.
export function evolutionParams(period, date, timezone) {
  if (period === 'range') {
    const [from, to] = rangeOf(date, timezone);
    return { period: 'day', date: `${from},${to}` };
  }
  const day = resolveDay(date, timezone);
  const start = {
    day: () => addDays(day, -29),
    week: () => addDays(periodStart('week', day), -25 * 7),
    month: () => addMonths(periodStart('month', day), -11),
    year: () => addMonths(periodStart('year', day), -48),
  }[period]();
  return { period, date: `${start},${day}` };
}

// The evolution just before the one evolutionParams gives, as long as it:
// what a chart compares with when the view compares with the previous
// period (the 30 days before the last 30 days; a range's previous range).
export function previousEvolutionParams(period, date, timezone) {
  const length = { day: 30, week: 26, month: 12, year: 5, range: 1 }[period];
  return evolutionParams(period, shiftDate(period, date, -length, timezone), timezone);
}

// The first day of a period key of a multi-period answer ("2026-11-23,2026-11-29",
// "2026-11", "2026"), as UNIX seconds for a chart's x axis.
export function periodKeyTime(key) {
  const first = key.split(',')[0];
  const day = first.length === 4 ? `${first}-01-01` : first.length === 7 ? `${first}-01` : first;
  return toUtc(day) / 1000;
}

// What the date picker says about the view: "2026-11-28", "week of ...".
export function describePeriod(period, date, timezone) {
  if (period === 'range') {
    const [from, to] = rangeOf(date, timezone);
    return `${from} to ${to}`;
  }
  const day = resolveDay(date, timezone);
  if (period === 'week') return `week of ${periodStart('week', day)}`;
  if (period === 'month') return day.slice(0, 7);
  if (period === 'year') return day.slice(0, 4);
  return day;
}
