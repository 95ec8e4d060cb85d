// From a shop's page to the dashboard: the real tracker on a page sends a
// page view, an outlink, a single-page-app navigation, an event, an order and
// a goal, and a person logged in to the dashboard then sees each of them in
// the overview, the visitor log and the reports, with the numbers the
// Reporting API gives for the same view.
import { test, done, assert, assertEqual, startTally, launchBrowser, newPage, eventually, tally,
  logIn, settled, screenshotPath } from './lib.mjs';

const server = await startTally();
const PASSWORD = 'correct horse battery';
tally(['user', 'add', '--data', server.data, 'root', '--superuser'], PASSWORD + '\n');
tally(['goal', 'add', '--data', server.data, '--site', '1', '--name', 'Lead', '--match', 'manual']);
const browser = await launchBrowser();
const shop = 'https://shop.example.com';
const partner = 'https://partner.example.org/offer';

// The shop's visit, tracked by the snippet a site pastes.
const visitor = await newPage(browser);
await visitor.route(`${shop}/**`, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html>
  <title>Shop home</title>
  <script async src="${server.url}/tally.js" data-site="1"></script>
  <a id="partner" href="${partner}">Partner</a>
  <script>document.addEventListener('click', (e) => e.preventDefault());</script>` }));
// Each step waits for its hit to be stored, so the visitor log's order (by
// arrival) is the page's.
const storedActions = async () => {
  const visits = await server.api({ method: 'Live.getLastVisitsDetails', period: 'day', date: 'today' });
  return visits.length ? visits[0].actionDetails.length : 0;
};
async function step(action) {
  const before = await storedActions();
  await action();
  await eventually(async () => (await storedActions()) === before + 1);
}
await step(() => visitor.goto(`${shop}/`));
await visitor.waitForFunction(() => window._tallyExtension);
await step(() => visitor.click('#partner'));
await step(() => visitor.evaluate(() => {
  history.pushState({}, '', '/products/blue-mug');
  document.title = 'Blue mug';
}));
await step(() => visitor.evaluate(() => _paq.push(['trackEvent', 'Video', 'Play', 'Intro', 3])));
await step(() => visitor.evaluate(() => {
  _paq.push(['addEcommerceItem', 'SKU-1', 'Blue Mug', 'Mugs', 12.5, 2]);
  _paq.push(['trackEcommerceOrder', 'A-100', 30, 25]);
}));
await step(() => visitor.evaluate(() => _paq.push(['trackGoal', 1, 9.5])));
assertEqual(visitor.problems, [], 'problems on the shop page');

const VIEW = '?site=1&period=day&date=today';
const dashboard = await logIn(browser, server, 'root', PASSWORD, { viewport: { width: 1280, height: 900 } });

async function open(id) {
  await dashboard.goto(`${server.url}/#/${id}${VIEW}`);
  await settled(dashboard);
}

// The headline numbers shown, by their titles.
const shownKpis = () => dashboard.$$eval('.kpi', (kpis) => Object.fromEntries(
  kpis.map((k) => [k.querySelector('dt').textContent.trim(), k.querySelector('.value').textContent.trim()])));

// The rows of the page's first table: label -> its cells' texts.
const shownRows = () => dashboard.$$eval('table:first-of-type tbody tr:not(.sub)', (rows) => Object.fromEntries(
  rows.filter((r) => r.querySelector('th .text'))
    .map((r) => [r.querySelector('th .text').textContent, [...r.querySelectorAll('td')].map((td) => td.textContent.trim())])));

test('the overview counts the visit and its actions', async () => {
  await open('visitors-overview');
  const api = await server.api({ method: 'VisitsSummary.get', period: 'day', date: 'today' });
  // As Matomo counts: page views, the outlink and the event are actions;
  // the order and the goal are conversions.
  assertEqual([api.nb_visits, api.nb_actions], [1, 4], 'what the API counts');
  const kpis = await shownKpis();
  assertEqual([kpis.Visits, kpis.Actions], ['1', '4'], 'visits and actions shown');
  await dashboard.screenshot({ path: screenshotPath('tracked-overview') });
});

test('the visitor log shows every hit the page sent, in order, with the goal by name', async () => {
  await open('visitors-log');
  const actions = await dashboard.$$eval('article.visit ol.actions li', (items) => items.map((li) =>
    [li.querySelector('.kind').textContent, li.querySelector('.text').textContent]));
  assertEqual(actions, [
    ['Page', 'Shop home'],
    ['Outlink', partner],
    ['Page', 'Blue mug'],
    ['Event', 'Video › Play › Intro'],
    ['Order', 'A-100'],
    ['Goal', 'Lead'],
  ], 'the visit\'s actions');
  assertEqual(await dashboard.$$eval('article.visit', (cards) => cards.length), 1, 'one visit');
  await dashboard.screenshot({ path: screenshotPath('tracked-visitor-log'), fullPage: true });
});

test('the reports list the pages, the outlink, the event, the goal and the order', async () => {
  await open('behaviour-titles');
  const titles = await shownRows();
  assertEqual(Object.keys(titles).sort(), ['Blue mug', 'Shop home'], 'page titles');
  await open('behaviour-outlinks');
  assert(Object.keys(await shownRows()).includes('partner.example.org'), 'the outlink\'s domain');
  await open('behaviour-events');
  assert('Video' in await shownRows(), 'the event category');
  await open('goals');
  const goals = await server.api({ method: 'Goals.get', period: 'day', date: 'today' });
  // The order and the goal: two conversions, 30 + 9.5.
  assertEqual([goals.nb_conversions, goals.revenue, goals.goal_1_nb_conversions], [2, 39.5, 1],
    'what the API counts');
  const goalSection = await dashboard.$$eval('section', (sections) => sections
    .filter((s) => s.querySelector('h2')?.textContent === 'Goal: Lead')
    .map((s) => [...s.querySelectorAll('.kpi .value')].map((v) => v.textContent.trim())));
  assertEqual(goalSection.length, 1, 'a section for the goal Lead');
  assert(goalSection[0][0] === '1', `the goal's conversions shown: ${goalSection[0]}`);
  await open('ecommerce');
  const kpis = await shownKpis();
  assertEqual(kpis.Orders, '1', 'one order');
  assert(/30/.test(kpis.Revenue), `the order's revenue shown: ${kpis.Revenue}`);
  assert('SKU-1' in await shownRows(), 'the product by SKU');
  assertEqual(dashboard.problems, [], 'dashboard problems');
});

await done();
