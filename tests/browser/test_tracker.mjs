// Tally's tracker (tracker/tally.js and tally-ext.js) in a real browser, on a
// page served on its public origin: what it sends reaches the Reporting API,
// and what privacy asks for holds (consent, DNT, GPC, no cookie by default,
// the opt-out iframe).
import { test, done, assert, assertEqual, startTally, launchBrowser, newPage, eventually, tally,
  screenshotPath } from './lib.mjs';

const browser = await launchBrowser();
const site = 'https://shop.example.com';

// A page of the shop whose body is `html` (on every path, so history
// navigation stays on it), and the tracking requests it sends to `server`,
// each as its parameters.
async function shopPage(server, html, options = {}) {
  const page = await newPage(browser, options);
  page.hits = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin === server.url && /^\/(tally|matomo\.php)$/.test(url.pathname))
      page.hits.push(Object.fromEntries(url.searchParams));
  });
  await page.route(`${site}/**`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  await page.route('https://partner.example.org/**', (route) => route.fulfill({ body: 'partner' }));
  return page;
}

// Matomo's snippet, pointed at Tally, after `commands` (pushed first).
const matomoSnippet = (server, commands = '') => `<script>
  var _paq = window._paq = window._paq || [];
  ${commands}
  _paq.push(['setTrackerUrl', '${server.url}/matomo.php']);
  _paq.push(['setSiteId', '1']);
</script><script async src="${server.url}/matomo.js"></script>`;

async function visits(server) {
  return server.api({ method: 'Live.getLastVisitsDetails' });
}

// Waiting for something not to happen: long enough for a beacon to arrive.
const settle = () => new Promise((r) => setTimeout(r, 1000));

test('the one-line snippet tracks page views, SPA navigation, links, events, goals, search and an order', async () => {
  const server = await startTally();
  tally(['goal', 'add', '--data', server.data, '--site', '1', '--name', 'Lead', '--match', 'manual']);
  const page = await shopPage(server, `<!doctype html><title>Shop home</title>
    <script>var _paq = window._paq = []; _paq.push(['setUserId', 'user-42']);</script>
    <script async src="${server.url}/tally.js" data-site="1"></script>
    <a id="partner" href="https://partner.example.org/offer">Partner</a>
    <a id="manual" href="/files/manual.pdf">Manual</a>
    <script>document.addEventListener('click', (e) => e.preventDefault());</script>`);
  await page.goto(`${site}/`);
  // Link and history tracking come with tally-ext.js, which the snippet loads.
  await page.waitForFunction(() => window._tallyExtension);
  await page.click('#partner');
  await page.click('#manual');
  await page.evaluate(() => {
    history.pushState({}, '', '/products/blue-mug');
    document.title = 'Blue mug';
  });
  await eventually(() => page.hits.length === 4);
  await page.evaluate(() => {
    _paq.push(['trackEvent', 'Video', 'Play', 'Intro', 3]);
    _paq.push(['trackSiteSearch', 'mugs', 'Kitchen', 4]);
    _paq.push(['addEcommerceItem', 'SKU-1', 'Blue Mug', ['Kitchen', 'Mugs'], 12.5, 2]);
    _paq.push(['trackEcommerceOrder', 'A-100', 30, 25, 2.5, 2.5]);
    _paq.push(['trackGoal', 1, 9.5]);
  });
  const [visit] = await eventually(async () => {
    const v = await visits(server);
    return v.length === 1 && v[0].actionDetails.length === 8 ? v : null;
  });
  const byType = (type) => visit.actionDetails.filter((a) => a.type === type);
  assertEqual(visit.userId, 'user-42', 'user id');
  assertEqual(byType('action').map((a) => [a.url, a.pageTitle]),
    [[`${site}/`, 'Shop home'], [`${site}/products/blue-mug`, 'Blue mug']], 'page views');
  assertEqual(byType('outlink').map((a) => a.url), ['https://partner.example.org/offer'], 'outlink');
  assertEqual(byType('download').map((a) => a.url), [`${site}/files/manual.pdf`], 'download');
  const [event] = byType('event');
  assertEqual([event.eventCategory, event.eventAction, event.eventName, event.eventValue],
    ['Video', 'Play', 'Intro', 3], 'event');
  const [search] = byType('search');
  assertEqual([search.siteSearchKeyword, search.siteSearchCategory, search.siteSearchCount],
    ['mugs', 'Kitchen', 4], 'site search');
  const [order] = byType('ecommerceOrder');
  assertEqual([order.orderId, order.revenue, order.items],
    ['A-100', 30, [['SKU-1', 'Blue Mug', ['Kitchen', 'Mugs'], 12.5, 2]]], 'order with its item');
  assertEqual(byType('goal').map((a) => [a.goalId, a.revenue]), [[1, 9.5]], 'goal');
  // On the wire: the SPA page view's referrer is the page before it; the
  // first page view carries the load timings; no visitor id without cookies.
  const spaView = page.hits.find((h) => h.url === `${site}/products/blue-mug` && h.action_name);
  assertEqual(spaView.urlref, `${site}/`, 'SPA referrer');
  assert('pf_srv' in page.hits[0] && !('pf_srv' in spaView), 'timings on the first page view only');
  assert(page.hits.every((h) => !h._id), 'no visitor id');
  assertEqual(await page.context().cookies(), [], 'cookies');
  await page.screenshot({ path: screenshotPath('tracker-shop') });
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

test('requireConsent holds hits until setConsentGiven, then sends them', async () => {
  const server = await startTally();
  const page = await shopPage(server, `<!doctype html><title>Consent</title>` +
    matomoSnippet(server, `_paq.push(['requireConsent']); _paq.push(['trackPageView']);`));
  await page.goto(`${site}/consent`);
  await settle();
  assertEqual(page.hits.length, 0, 'requests before consent');
  assertEqual((await visits(server)).length, 0, 'visits before consent');
  await page.evaluate(() => _paq.push(['setConsentGiven']));
  const [visit] = await eventually(async () => {
    const v = await visits(server);
    return v.length ? v : null;
  });
  assertEqual(visit.actionDetails.map((a) => a.url), [`${site}/consent`], 'the held page view');
  assertEqual(await page.context().cookies(), [], 'cookies');
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

test('cookie consent: a visitor id cookie only once given, gone once forgotten', async () => {
  const server = await startTally();
  const page = await shopPage(server, `<!doctype html><title>Cookies</title>` +
    matomoSnippet(server, `_paq.push(['requireCookieConsent']); _paq.push(['trackPageView']);`));
  await page.goto(`${site}/cookies`);
  await eventually(() => page.hits.length === 1);
  assertEqual(page.hits[0]._id, undefined, 'no visitor id before cookie consent');
  await page.evaluate(() => {
    _paq.push(['setCookieConsentGiven']);
    _paq.push(['trackEvent', 'Consent', 'Given']);
  });
  await eventually(() => page.hits.length === 2);
  const cookie = (await page.context().cookies()).find((c) => c.name.startsWith('_pk_id.1.'));
  assert(cookie && /^[0-9a-f]{16}$/.test(cookie.value), `visitor cookie: ${JSON.stringify(cookie)}`);
  assertEqual(page.hits[1]._id, cookie.value, 'the cookie is the visitor id sent');
  await page.evaluate(() => _paq.push(['forgetCookieConsentGiven']));
  assertEqual(await page.context().cookies(), [], 'cookies after forgetting');
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

for (const [name, property, value] of [['Do Not Track', 'doNotTrack', '1'],
  ['Global Privacy Control', 'globalPrivacyControl', true]]) {
  test(`${name} in the browser: no tracking request at all`, async () => {
    const server = await startTally();
    const page = await shopPage(server, `<!doctype html><title>Private</title>` +
      matomoSnippet(server, `_paq.push(['trackPageView']); _paq.push(['trackEvent', 'A', 'B']);`));
    await page.addInitScript(([p, v]) => Object.defineProperty(Navigator.prototype, p, { get: () => v }),
      [property, value]);
    await page.goto(`${site}/private`);
    await page.waitForFunction(() => !Array.isArray(window._paq));
    await settle();
    assertEqual(page.hits.length, 0, 'tracking requests');
    assertEqual((await visits(server)).length, 0, 'visits');
    assertEqual(page.problems, [], 'page problems');
    await page.context().close();
  });
}

test('unknown commands are ignored without errors; function commands run', async () => {
  const server = await startTally();
  const page = await shopPage(server, `<!doctype html><title>Odd</title>` + matomoSnippet(server, `
    _paq.push(['noSuchCommand', 1, 2]);
    _paq.push(['setCookieDomain', '*.example.com']);
    _paq.push([]);
    _paq.push([function () { window.seenSiteId = this.getSiteId(); }]);
    _paq.push(['trackPageView']);`));
  await page.goto(`${site}/odd`);
  await eventually(() => page.hits.length === 1);
  assertEqual(await page.evaluate(() => window.seenSiteId), '1', 'function command');
  await page.evaluate(() => _paq.push(['alsoUnknown'], ['trackEvent', 'Still', 'Works']));
  await eventually(() => page.hits.length === 2);
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

test('the opt-out page works in an iframe: the tracker on the page stops and resumes', async () => {
  const server = await startTally();
  const page = await shopPage(server, `<!doctype html><title>Privacy</title>` +
    matomoSnippet(server, `_paq.push(['trackPageView']);`) +
    `<iframe id="optout" src="${server.url}/optout"></iframe>`);
  const answer = page.waitForResponse(`${server.url}/optout`);
  await page.goto(`${site}/privacy`);
  assert((await answer).headers()['content-security-policy'].includes('frame-ancestors *'), 'framable');
  await eventually(() => page.hits.length === 1);
  const frame = page.frameLocator('#optout');
  const box = frame.locator('#tracked');
  assert(await box.isChecked(), 'tracked at first');
  await box.uncheck();
  await eventually(async () => (await page.context().cookies()).some((c) => c.name === 'mtm_consent_removed'));
  assert((await frame.locator('#status').textContent()).includes('opted out'), 'the page says so');
  await page.evaluate(() => _paq.push(['trackEvent', 'After', 'OptOut']));
  await settle();
  assertEqual(page.hits.length, 1, 'no request once opted out');
  // The iframe remembers the choice when the page is loaded again.
  await page.reload();
  await settle();
  assert(!(await page.frameLocator('#optout').locator('#tracked').isChecked()), 'remembered');
  assertEqual(page.hits.length, 1, 'still no request after a reload');
  await page.frameLocator('#optout').locator('#tracked').check();
  await eventually(async () => !(await page.context().cookies()).some((c) => c.name === 'mtm_consent_removed'));
  await page.evaluate(() => _paq.push(['trackEvent', 'After', 'OptIn']));
  await eventually(() => page.hits.length === 2);
  await page.screenshot({ path: screenshotPath('tracker-optout') });
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

await done();
