#!/usr/bin/env node
// How fast the dashboard's first view appears: logs in to a running Tally
// and loads the dashboard cold 3 times in headless chromium (Debian's, driven
// by playwright-core from npm as tests/browser/lib.mjs does), then prints one
// line with the median.
//
// What is measured, per load: a new browser context (empty cache, no service
// worker; the session cookie comes from POST /login before the clock starts)
// navigates to URL. The time is the page's performance.now() at the first
// animation frame where the Overview's first KPI value (`.kpi .value`) and
// its evolution chart's canvas (`.chart canvas`) are both rendered with a
// non-zero size: from the navigation's start (the document's time origin,
// before the request for `/` is sent) to both being visible, so it counts
// the HTML, the bundle, the session and site list calls and the report
// calls. The view is URL's hash when it has one, else the default view
// (Overview, today).
//
// usage: node scripts/bench-dashboard.mjs URL LOGIN PASSWORD
// prints: dashboard first view: median N ms over 3 cold loads (A, B, C ms)
import { chromium } from 'playwright-core';

const LOADS = 3;
const [url, login, password] = process.argv.slice(2);
if (!url || !login || password === undefined) {
  console.error('usage: node scripts/bench-dashboard.mjs URL LOGIN PASSWORD');
  process.exit(2);
}
const origin = new URL(url).origin;

// Resolves, inside the page, with performance.now() at the first frame where
// the KPIs and the chart are both visible.
function firstViewTime() {
  const visible = (selector) => {
    const el = document.querySelector(selector);
    if (!el) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  return new Promise((resolve) => {
    const check = () => (visible('.kpi .value') && visible('.chart canvas')
      ? resolve(performance.now()) : requestAnimationFrame(check));
    check();
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const times = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const answer = await context.request.post(`${origin}/login`, { form: { login, password } });
    if (!answer.ok()) throw new Error(`login refused: ${answer.status()} ${await answer.text()}`);
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const ms = await page.evaluate(firstViewTime);
    const errors = await page.$$eval('.error', (els) => els.map((e) => e.textContent));
    if (errors.length) throw new Error(`the page shows errors: ${errors.join(' | ')}`);
    times.push(Math.round(ms));
    await context.close();
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(LOADS / 2)];
  console.log(`dashboard first view: median ${median} ms over ${LOADS} cold loads (${times.join(', ')} ms)`);
} finally {
  await browser.close();
}
