// The dashboard in a real browser against the real server: log in, every
// page opens without errors, a segment, a comparison, the CSV export against
// the API, the report table's sorting, search, subtables and row evolution,
// the phone layout, API tokens made, listed and deleted in the settings, and
// stored XSS: hostile strings tracked as titles, URLs,
// events, campaigns, keywords, referrers and site searches are shown as text
// on every page and in the visitor log, and nothing they carry runs.
import { readFileSync } from 'node:fs';
import { test, done, assert, assertEqual, startTally, launchBrowser, newPage,
  screenshotPath, eventually, tally, desktopUserAgent, logIn, settled } from './lib.mjs';

const server = await startTally();
const PASSWORD = 'correct horse battery';
tally(['user', 'add', '--data', server.data, 'root', '--superuser'], PASSWORD + '\n');

// Both payloads would set window.__xss if any of them ran as HTML.
const IMG = '<img src=x onerror=window.__xss=1>';
const SCRIPT = '"><script>window.__xss=2</script>';

// One visit per hit list (its own visitor id), tracked now through the
// Matomo tracking API as a browser would send it.
let visitorNumber = 0;
async function visit(hits) {
  const id = (++visitorNumber).toString(16).padStart(16, '0');
  for (const hit of hits) {
    const q = new URLSearchParams({ idsite: '1', rec: '1', apiv: '1', _id: id, res: '1280x800', ...hit });
    const res = await fetch(`${server.url}/matomo.php?${q}`, { headers: { 'User-Agent': desktopUserAgent } });
    assert(res.ok, `tracking answered ${res.status}`);
  }
}
const shop = 'https://shop.example.com';
await visit([{ url: `${shop}/`, action_name: 'Home' }, { url: `${shop}/shop/tea`, action_name: 'Tea' },
  { url: `${shop}/shop/mugs`, action_name: 'Mugs' }]);
await visit([{ url: `${shop}/shop/tea`, action_name: 'Tea', urlref: 'https://www.google.com/search?q=green+tea' }]);
await visit([{ url: `${shop}/about?mtm_campaign=spring`, action_name: 'About' }]);
// The hostile visits.
await visit([{ url: `${shop}/p/${encodeURIComponent(IMG)}`, action_name: IMG },
  { url: `${shop}/q`, action_name: SCRIPT },
  { url: `${shop}/q`, e_c: IMG, e_a: SCRIPT, e_n: IMG, ca: '1' },
  { url: `${shop}/s`, action_name: 'Search', search: SCRIPT, search_cat: IMG }]);
await visit([{ url: `${shop}/c?mtm_campaign=${encodeURIComponent(IMG)}&mtm_keyword=${encodeURIComponent(SCRIPT)}`, action_name: 'Campaign' }]);
await visit([{ url: `${shop}/k`, action_name: 'Keyword', urlref: `https://www.google.com/search?q=${encodeURIComponent(IMG)}` }]);
await visit([{ url: `${shop}/r`, action_name: 'Referrer', urlref: `https://evil.example.org/${encodeURIComponent(SCRIPT)}` }]);
// Visits from two countries for the map, their addresses given as cip (which
// needs the site's write token): two from Google's 8.8.8.8 (US in any
// database), one from a German network.
for (const cip of ['8.8.8.8', '8.8.8.8', '193.99.144.80'])
  await visit([{ url: `${shop}/`, action_name: 'Home', cip, token_auth: server.token }]);
await eventually(async () => (await server.api({ method: 'VisitsSummary.get', period: 'day', date: 'today' })).nb_visits === 10);

const browser = await launchBrowser();
const VIEW = '?site=1&period=day&date=today';

// A logged-in page; failed loads of optional methods are reported by the
// page itself (checked below), so only script errors and CSP reports count.
const loggedIn = (options) => logIn(browser, server, 'root', PASSWORD, options);

// An API method that answers an error, and a refused login, are shown on
// the page (and checked there); chromium also logs them. Anything else is
// a problem.
function scriptProblems(page) {
  return page.problems.filter((p) => !(p.includes('Failed to load resource') && /\/(index\.php|session|login)\)$/.test(p)));
}

async function openPage(page, id) {
  await page.goto(`${server.url}/#/${id}${VIEW}`);
  await settled(page);
}

// Waits for the table's rows to be in descending label order: they come
// with the answer to the sorted request, and until then the old order shows.
async function sortedByLabelDescending(page) {
  await eventually(async () => {
    const labels = await page.$$eval('tbody tr:not(.sub) th .text', (els) => els.map((e) => e.textContent));
    return labels.length > 1 && labels.join() === [...labels].sort().reverse().join();
  });
  await settled(page);
}

// What the hostile strings could have injected, had they been parsed as HTML.
async function assertNothingInjected(page, where) {
  const injected = await page.evaluate(() => ({
    ran: window.__xss ?? null,
    elements: document.querySelectorAll('img[src="x"], script:not([src])').length,
  }));
  assertEqual(injected, { ran: null, elements: 0 }, `injected markup on ${where}`);
}

test('a wrong password is refused with a message, the right one logs in', async () => {
  const page = await newPage(browser);
  await page.goto(server.url + '/');
  assertEqual(await page.textContent('h1'), 'Tally', 'login heading');
  await page.fill('input[name=login]', 'root');
  await page.fill('input[name=password]', 'wrong password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  assert((await page.textContent('.error')).includes('wrong login or password'), 'refusal shown');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav.menu');
  assertEqual(await page.textContent('main#content h1'), 'Overview', 'default page');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('every page opens without errors, and hostile strings stay text on each', async () => {
  const page = await loggedIn({ viewport: { width: 1280, height: 900 } });
  const ids = await page.$$eval('nav.menu a', (links) => links.map((a) => a.hash.slice(2).split('?')[0]));
  assert(ids.length >= 35, `menu has every page (${ids.length})`);
  for (const id of ids) {
    await openPage(page, id);
    const errors = await page.$$eval('.error', (els) => els.map((e) => e.textContent));
    assertEqual(errors, [], `errors on ${id}`);
    await assertNothingInjected(page, id);
    await page.screenshot({ path: screenshotPath(`dashboard-${id}`), fullPage: true });
  }
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('hostile titles, URLs, events, campaigns, keywords, referrers and searches read as text', async () => {
  const page = await loggedIn();
  const shows = async (id, texts, flat) => {
    await openPage(page, id);
    if (flat) {
      for (const box of await page.$$('main#content label.check input[type=checkbox]')) await box.check();
      await settled(page);
    }
    const body = await page.textContent('main#content');
    for (const text of texts) assert(body.includes(text), `${id} shows ${JSON.stringify(text)} as text`);
    await assertNothingInjected(page, id);
  };
  await shows('behaviour-titles', [IMG, SCRIPT]);
  // The URL as stored (normalised, so perhaps percent-encoded) is what the
  // pages report shows.
  const pages = await server.api({ method: 'Actions.getPageUrls', period: 'day', date: 'today', flat: '1' });
  const hostilePage = pages.find((row) => row.label.startsWith('/p/'));
  await shows('behaviour-pages', [hostilePage.label], true);
  await shows('behaviour-events', [IMG, SCRIPT]);
  await shows('behaviour-search', [SCRIPT, IMG]);
  await shows('acquisition-campaigns', [IMG]);
  await shows('acquisition-search', [IMG]);
  await shows('acquisition-referrers', ['evil.example.org']);
  await shows('visitors-log', [IMG, SCRIPT]);
  await page.screenshot({ path: screenshotPath('dashboard-xss-visitor-log'), fullPage: true });
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('a segment from the editor applies to the reports and the URL', async () => {
  const page = await loggedIn();
  await openPage(page, 'visitors-overview');
  await page.click('text=Add segment');
  await page.selectOption('.segment-editor .condition select >> nth=0', 'referrerType');
  await page.selectOption('.segment-editor .condition select >> nth=1', '==');
  await page.fill('.segment-editor .condition input', 'campaign');
  assertEqual(await page.inputValue('.segment-editor .typed input'), 'referrerType==campaign', 'built segment');
  await page.click('.segment-editor >> text=Apply');
  await eventually(async () => decodeURIComponent(await page.evaluate(() => location.hash)).includes('segment=referrerType==campaign'));
  const expected = await server.api({ method: 'VisitsSummary.get', period: 'day', date: 'today', segment: 'referrerType==campaign' });
  assertEqual(expected.nb_visits, 2, 'two campaign visits were tracked');
  await eventually(async () => (await page.textContent('.kpi:first-child .value')) === '2');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('comparing with the previous period shows the change', async () => {
  const page = await loggedIn();
  await openPage(page, 'visitors-overview');
  await page.check('text=Compare with previous period');
  await eventually(async () => (await page.evaluate(() => location.hash)).includes('compare=1'));
  await page.waitForSelector('.kpi .delta');
  const answer = await server.api({ method: 'VisitsSummary.get', period: 'day', date: 'today', compare: '1' });
  const before = answer.comparisons[0].nb_visits;
  assertEqual(await page.getAttribute('.kpi:first-child .delta', 'title'), `previous period: ${before}`, 'previous value');
  assertEqual(await page.textContent('.kpi:first-child .delta'), before === 0 ? 'new' : await page.textContent('.kpi:first-child .delta'), 'change');
  await page.goBack();
  await eventually(async () => !(await page.evaluate(() => location.hash)).includes('compare=1'));
  await page.context().close();
});

test('the users flow shows the steps the API answers, by URL and by title, and more actions per step', async () => {
  const page = await loggedIn();
  await openPage(page, 'behaviour-users-flow');
  const shown = () => page.$$eval('.flow-step', (steps) => steps.map((step) => ({
    label: step.querySelector('h3').textContent,
    totals: step.querySelector('.flow-totals').textContent,
    actions: [...step.querySelectorAll('.flow-action > .text')].map((e) => e.textContent),
  })));
  const expected = async (params) => (await server.api({ method: 'UsersFlow.getUsersFlowPretty', period: 'day',
    date: 'today', expanded: '1', ...params })).map((step) => ({
    label: step.label,
    totals: `${step.nb_visits} visits · ${step.nb_proceeded} proceeded · ${step.nb_exits} exits (${step.exit_rate})`,
    actions: step.subtable.map((a) => a.label),
  }));
  const answer = await expected({});
  // Ten visits start; the first and the hostile one go on (three interaction
  // steps each: pageviews and the site search; the event is no step).
  assertEqual(answer.map((s) => s.totals), ['10 visits · 2 proceeded · 8 exits (80%)',
    '2 visits · 2 proceeded · 0 exits (0%)', '2 visits · 0 proceeded · 2 exits (100%)'], 'the API by hand');
  assertEqual(await shown(), answer, 'steps by URL');
  await page.selectOption('label:has-text("Actions by") select', 'page_title');
  await eventually(async () => (await page.evaluate(() => location.hash)).includes('dataSource=page_title'));
  // The new answer may arrive after the page first looks settled: wait for it.
  const byTitle = await expected({ dataSource: 'page_title' });
  await eventually(async () => JSON.stringify(await shown()) === JSON.stringify(byTitle));
  await page.selectOption('label:has-text("Actions per step") select', '10');
  await eventually(async () => JSON.stringify(await shown())
    === JSON.stringify(await expected({ dataSource: 'page_title', limitActionsPerStep: '10' })));
  assert((await page.textContent('.flow')).includes(IMG), 'a hostile title reads as text');
  await assertNothingInjected(page, 'users flow');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('comparing adds the previous span to the evolution charts as a dashed series', async () => {
  const page = await loggedIn();
  const chartLabels = () => page.$$eval('.chart', (charts) => charts.map((c) => c.getAttribute('aria-label')));
  await openPage(page, 'visitors-overview');
  await page.waitForSelector('.chart canvas');
  assertEqual(await chartLabels(), ['Chart: Visits'], 'one series without compare');
  await page.goto(`${server.url}/#/visitors-overview${VIEW}&compare=1`);
  await eventually(async () => (await chartLabels()).join() === 'Chart: Visits, Visits (previous period)');
  assertEqual(await page.$$eval('.chart .u-legend .u-series', (s) => s.length), 3, 'time and two series in the legend');
  await page.goto(`${server.url}/#/behaviour-titles${VIEW}&compare=1`);
  await settled(page);
  await page.hover('tbody tr:first-child');
  await page.click('tbody tr:first-child button:has-text("evolution")');
  await eventually(async () => (await page.getAttribute('.evolution .chart', 'aria-label') || '').endsWith('(previous period)'));
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('the Locations map shades the country with the most visits darkest and titles it', async () => {
  const page = await loggedIn();
  await openPage(page, 'audience-locations');
  await page.waitForSelector('.world-map path.visited');
  const rows = (await server.api({ method: 'UserCountry.getCountry', period: 'day', date: 'today' }))
    .filter((r) => r.code && r.code !== 'xx');
  const top = rows.reduce((a, b) => (b.nb_visits > a.nb_visits ? b : a));
  assertEqual([top.code, top.nb_visits], ['us', 2], 'the API: two visits from 8.8.8.8');
  const visited = await page.$$eval('.world-map path.visited', (paths) => paths.map((p) => ({
    code: p.dataset.code, alpha: Number(getComputedStyle(p).fill.match(/[\d.]+/g)[3] ?? 1), title: p.querySelector('title').textContent,
    focusable: p.tabIndex === 0,
  })));
  assertEqual(visited.map((v) => v.code).sort(), rows.map((r) => r.code).sort(), 'every country with visits is shaded');
  const darkest = visited.reduce((a, b) => (b.alpha > a.alpha ? b : a));
  assertEqual([darkest.code, darkest.title], ['us', `${top.label}: 2 visits`], 'the darkest country and its title');
  assert(visited.every((v) => v.focusable), 'countries with visits are tab stops');
  await page.focus('.world-map path[data-code="us"]');
  await page.keyboard.press('Enter');
  await eventually(async () => decodeURIComponent(await page.evaluate(() => location.hash)).includes('segment=countryCode==us'));
  await settled(page);
  await assertNothingInjected(page, 'locations');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('the CSV export has the rows the API answers', async () => {
  const page = await loggedIn();
  await openPage(page, 'behaviour-titles');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
  const csv = readFileSync(await download.path(), 'utf8');
  const q = new URLSearchParams({ module: 'API', method: 'Actions.getPageTitles', idSite: '1', period: 'day',
    date: 'today', filter_limit: '-1', format: 'csv', token_auth: server.token });
  const expected = await (await fetch(`${server.url}/index.php?${q}`)).text();
  assertEqual(csv, expected, 'CSV');
  assert(csv.split('\n').length >= 8, 'CSV has the titles');
  await page.context().close();
});

test('the table sorts, searches, pages, expands subtables and charts a row', async () => {
  const page = await loggedIn();
  await openPage(page, 'behaviour-pages');
  const labels = () => page.$$eval('tbody tr:not(.sub) th .text', (els) => els.map((e) => e.textContent));
  await page.click('thead button:has-text("Label")');
  assertEqual(await page.getAttribute('thead th:first-child', 'aria-sort'), 'descending', 'sorted by label');
  await sortedByLabelDescending(page);
  await page.click('button[aria-label="Expand shop"]');
  // The shop folder holds /shop/tea and /shop/mugs.
  await eventually(async () => (await page.$$eval('tr.sub th .text', (els) => els.map((e) => e.textContent)))
    .sort().join() === '/mugs,/tea');
  await page.fill('input[type=search]', 'abou');
  await eventually(async () => (await labels()).join() === '/about');
  await page.fill('input[type=search]', '');
  await page.selectOption('.pager select', '10');
  await settled(page);
  await page.hover('tbody tr:first-child');
  await page.click('tbody tr:first-child button:has-text("evolution")');
  await page.waitForSelector('.evolution canvas');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('keyboard only: skip to the content, sort a column, open a row\'s evolution', async () => {
  const page = await loggedIn({ viewport: { width: 1280, height: 900 } });
  await openPage(page, 'behaviour-titles');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') || el.textContent.trim()}`;
  });
  await page.keyboard.press('Tab');
  assertEqual(await focused(), 'a Skip to content', 'the first stop');
  await page.keyboard.press('Enter');
  assertEqual(await focused(), 'h1 Page titles', 'the content\'s heading');
  // Tab on to the title column's sort button, then to a row without a
  // subtable or link, whose actions are out of sight until focused.
  const tabTo = async (wanted) => {
    for (let i = 0; i < 40 && !wanted.test(await focused()); i++) await page.keyboard.press('Tab');
    assert(wanted.test(await focused()), `reached ${wanted} (at ${await focused()})`);
  };
  await tabTo(/^button Label/);
  await page.keyboard.press('Enter');
  assertEqual(await page.getAttribute('thead th:first-child', 'aria-sort'), 'descending', 'sorted by keyboard');
  await sortedByLabelDescending(page);
  const first = await page.$eval('tbody tr:first-child', (row) => ({
    label: row.querySelector('th .text').textContent,
    alone: !row.querySelector('th .expand, th a.out'),
  }));
  assert(first.alone, 'the first row has nothing else to focus');
  await tabTo(/^button Evolution of /);
  assertEqual(await focused(), `button Evolution of ${first.label}`, 'the first row\'s action is the next stop');
  assert(await page.evaluate(() => document.activeElement.getBoundingClientRect().width > 10),
    'the focused row action is visible');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.evolution canvas');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('on a phone the menu folds behind a button and the back button walks views', async () => {
  const page = await loggedIn({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  assert(!(await page.isVisible('nav.menu')), 'menu folded');
  await page.click('button.menu-toggle');
  await page.click('nav.menu >> text=Channels');
  await page.waitForSelector('[data-method="Referrers.getReferrerType"]');
  assert(!(await page.isVisible('nav.menu')), 'menu folds after a choice');
  await page.screenshot({ path: screenshotPath('dashboard-phone-channels'), fullPage: true });
  await page.goBack();
  await eventually(async () => (await page.textContent('main#content h1')) === 'Overview');
  await page.context().close();
});

test('a token made in the settings is listed as text, works, and stops working once deleted', async () => {
  const page = await loggedIn();
  await openPage(page, 'settings-users');
  const tokens = page.locator('section', { hasText: 'Your API tokens' });
  await tokens.locator('input[name=description]').fill(IMG);
  await tokens.locator('input[name=expireHours]').fill('24');
  await tokens.locator('input[name=passwordConfirmation]').fill(PASSWORD);
  await tokens.locator('button[type=submit]').click();
  const token = (await tokens.locator('code.token').textContent({ timeout: 10000 })).trim();
  assert(/^[0-9a-f]{32}$/.test(token), `a new token is shown once (${token})`);
  // The API's row (asked with the session, so the new token stays unused),
  // as the page shows it: the description as text, no last use yet.
  const [row] = await page.evaluate(async () => (await fetch('/index.php?module=API&format=json' +
    '&method=UsersManager.getTokens&userLogin=root', { headers: { 'X-Tally-Requested': '1' } })).json());
  assertEqual([row.description, row.last_used], [IMG, null], 'getTokens answers the description, unused');
  await eventually(async () => (await tokens.locator('tbody tr').count()) === 1);
  const cells = await tokens.locator('tbody tr td').allTextContents();
  assertEqual(cells.slice(0, 5), [String(row.idusertokenauth), IMG, row.date_created, row.date_expired, ''],
    'the row shows what getTokens answers');
  assert(!cells.join('').includes(token), 'the list never shows the token');
  await assertNothingInjected(page, 'tokens');
  const works = async () => (await fetch(`${server.url}/index.php?module=API&method=VisitsSummary.get&idSite=1` +
    `&period=day&date=today&format=json&token_auth=${token}`)).status;
  assertEqual(await works(), 200, 'the new token reads reports');
  page.once('dialog', (dialog) => dialog.accept());
  await tokens.locator('tbody button', { hasText: 'delete' }).click();
  await eventually(async () => (await tokens.locator('tbody tr').count()) === 0);
  assertEqual(await works(), 401, 'the deleted token is refused at once');
  assertEqual(scriptProblems(page), [], 'page problems');
  await page.context().close();
});

test('logging out ends the session', async () => {
  const page = await loggedIn();
  await page.click('text=Log out');
  await page.waitForSelector('input[name=password]');
  await page.reload();
  await page.waitForSelector('input[name=password]');
  await page.context().close();
});

await done();
