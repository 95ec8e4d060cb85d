// Tally's tracker (tracker/tally.js and tally-ext.js) in a real browser, on a
// page served on its public origin: what it sends reaches the Reporting API,
// and what privacy asks for holds (consent, DNT, GPC, no cookie by default,
// the opt-out iframe).
import { test, done, assert, assertEqual, startTally, launchBrowser, newPage, eventually, tally,
  screenshotPath } from './lib.mjs';

const browser = await launchBrowser();
const site = 'https://shop.example.com';

// A page of the shop whose body is `html` (on every path, so history
// navigation stays on it), and what it sends to `server`: page.requests, the
// tracking requests, each as the list of its hits (a bulk request's body
// holds several), and page.hits, every hit, each as its parameters.
async function shopPage(server, html, options = {}) {
  const page = await newPage(browser, options);
  page.requests = [];
  page.hits = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.origin !== server.url || !/^\/(tally|matomo\.php)$/.test(url.pathname)) return;
    const bulk = req.postData() ? JSON.parse(req.postData()).requests : [url.search];
    const hits = bulk.map((query) => Object.fromEntries(new URLSearchParams(query)));
    page.requests.push(hits);
    page.hits.push(...hits);
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

test('requireConsent holds hits until setConsentGiven, then sends them together', async () => {
  const server = await startTally();
  const page = await shopPage(server, `<!doctype html><title>Consent</title>` +
    matomoSnippet(server, `_paq.push(['requireConsent']); _paq.push(['trackPageView']);
      _paq.push(['trackAllContentImpressions']);`) +
    `<div data-track-content data-content-name="Offer" data-content-piece="Banner"></div>`);
  await page.goto(`${site}/consent`);
  await page.waitForFunction(() => window._tallyExtension);
  await settle();
  assertEqual(page.hits.length, 0, 'requests before consent');
  assertEqual((await visits(server)).length, 0, 'visits before consent');
  await page.evaluate(() => _paq.push(['setConsentGiven']));
  const [visit] = await eventually(async () => {
    const v = await visits(server);
    return v.length ? v : null;
  });
  assertEqual(page.requests.map((hits) => hits.map((h) => h.action_name || h.c_n)), [['Consent', 'Offer']],
    'the held page view and impression, in one bulk request');
  assertEqual(visit.actionDetails.map((a) => [a.type, a.url || a.contentName]),
    [['action', `${site}/consent`], ['contentImpression', 'Offer']], 'the held hits, in one visit');
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

test("Matomo's globals: _paq's tracker as an object, getTracker for another site, the AsyncInit callbacks", async () => {
  const server = await startTally();
  // A second site, for the tracker of its own that Matomo's docs show.
  tally(['site', 'add', '--data', server.data, '--name', 'Copy', '--url', site, '--timezone', 'UTC']);
  const copyToken = tally(['token', 'create', '--data', server.data, '--site', '2']).trim().split(/\s+/).pop();
  const copyVisits = () => server.api({ method: 'Live.getLastVisitsDetails', idSite: '2', token_auth: copyToken });
  await eventually(async () => (await copyVisits().catch(() => null)) !== null); // the server saw the site
  const page = await shopPage(server, `<!doctype html><title>Globals</title>
    <a id="partner" href="https://partner.example.org/offer">Partner</a>
    <script>
      document.addEventListener('click', (e) => e.preventDefault());
      window.calls = [];
      window.matomoPluginAsyncInit = [() => calls.push('plugin')];
      window.piwikAsyncInit = () => calls.push('piwik');
      window.matomoAsyncInit = () => {
        calls.push('matomo');
        Matomo.getTracker('${server.url}/matomo.php', 2).trackPageView('Copy');
      };
    </script>` + matomoSnippet(server, `_paq.push(['setUserId', 'user-7']); _paq.push(['trackPageView']);`));
  await page.goto(`${site}/globals`);
  await eventually(() => page.hits.length === 2);
  // The queue first, then the callbacks: the getTracker tracker sends to its
  // own site with none of the async tracker's settings (no user id).
  assertEqual(page.hits.map((h) => [h.idsite, h.action_name, h.uid]),
    [['1', 'Globals', 'user-7'], ['2', 'Copy', undefined]], 'the two page views');
  const seen = await page.evaluate(async () => {
    const tracker = Matomo.getAsyncTracker();
    let thisTracker;
    _paq.push([function () { thisTracker = this; }]);
    return {
      calls,
      one: Piwik === Matomo && Matomo.getAsyncTracker() === tracker && thisTracker === tracker &&
        Matomo.getAsyncTrackers()[0] === tracker,
      getters: [tracker.getSiteId(), tracker.getTrackerUrl(), tracker.getUserId(), tracker.getVisitorId(),
        Matomo.getTracker().getSiteId()],
      // Matomo methods Tally does not have return undefined, no exception;
      // the tracker is not a thenable (await gives it back), has no plugins
      // and is still an object (String() reads symbols and toString).
      unknown: [tracker.getVisitorInfo(), tracker.setCookieDomain('*.example.com'),
        (await tracker) === tracker, typeof tracker.HeatmapSessionRecording, String(tracker)],
    };
  });
  assertEqual(seen, {
    calls: ['plugin', 'piwik', 'matomo'], one: true,
    getters: ['1', `${server.url}/matomo.php`, 'user-7', '', '1'],
    unknown: [null, null, true, 'undefined', '[object Object]'],
  }, 'globals and getters');
  // The same command as a method and through _paq sends the same hit; a
  // method of tally-ext.js loads it, as its _paq command does.
  await page.evaluate(() => {
    const tracker = Matomo.getAsyncTracker();
    tracker.setCustomDimension(3, 'blue');
    tracker.trackEvent('Same', 'Way', 'either', 5);
    _paq.push(['setCustomDimension', 3, 'blue'], ['trackEvent', 'Same', 'Way', 'either', 5]);
    tracker.enableLinkTracking();
  });
  await page.click('#partner');
  await eventually(() => page.hits.length === 5);
  const [byMethod, byQueue] = page.hits.slice(2, 4).map(({ r, h, m, s, ...rest }) => rest);
  assertEqual(byMethod, byQueue, 'a method and a _paq command');
  assertEqual([byMethod.e_c, byMethod.e_n, byMethod.dimension3], ['Same', 'either', 'blue'], 'the event');
  assertEqual(page.hits[4].link, 'https://partner.example.org/offer', 'link tracking enabled by a method');
  const [visit] = await eventually(async () => {
    const v = await visits(server);
    return v.length === 1 && v[0].actionDetails.length === 4 ? v : null;
  });
  assertEqual(visit.actionDetails.map((a) => a.type), ['action', 'event', 'event', 'outlink'], 'site 1');
  const [copy] = await copyVisits();
  assertEqual(copy.actionDetails.map((a) => a.pageTitle), ['Copy'], 'site 2');
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

test('content impressions found together go as one bulk request, split past 30, into the Contents reports', async () => {
  const server = await startTally();
  const banner = 'data-track-content data-content-name="Spring banner" data-content-piece="/img/spring.jpg" ' +
    'data-content-target="/sale"';
  // The tracker runs before the blocks exist (a slow script holds the
  // parser back): the scan waits for them.
  const page = await shopPage(server, `<!doctype html><title>Contents</title>` +
    matomoSnippet(server, `_paq.push(['trackPageView']); _paq.push(['trackAllContentImpressions']);`) +
    `<body><script src="/slow.js"></script><div ${banner}><a id="banner" href="/sale">Sale</a></div>
    <div data-track-content data-content-name="Newsletter" data-content-piece="Sign up"></div>
    <div ${banner}>The same content again</div>
    <div id="later"></div>
    <script>document.addEventListener('click', (e) => e.preventDefault());</script>`);
  await page.route(`${site}/slow.js`, async (route) => {
    await page.waitForFunction(() => window._tallyExtension);
    await route.fulfill({ contentType: 'text/javascript', body: '' });
  });
  await page.goto(`${site}/contents`);
  await eventually(() => page.requests.length === 2);
  // The page view alone; then the three blocks: two distinct contents, one request.
  assertEqual(page.requests.map((hits) => hits.map((h) => h.action_name || [h.c_n, h.c_p, h.c_t])),
    [['Contents'], [['Spring banner', '/img/spring.jpg', '/sale'], ['Newsletter', 'Sign up', undefined]]],
    'requests');
  // 31 blocks added later, one scan: 30 in one request, the last in another.
  await page.evaluate(() => {
    const later = document.getElementById('later');
    later.innerHTML = Array.from({ length: 31 }, (_, i) =>
      `<div data-track-content data-content-name="Tile ${i}" data-content-piece="tile.png"></div>`).join('');
    _paq.push(['trackContentImpressionsWithinNode', later]);
  });
  await eventually(() => page.requests.length === 4);
  assertEqual(page.requests.slice(2).map((hits) => hits.length), [30, 1], 'a scan of 31 blocks');
  assertEqual(page.requests.slice(2).flat().map((h) => h.c_n),
    Array.from({ length: 31 }, (_, i) => `Tile ${i}`), 'every tile once, in page order');
  // A click in a block whose impression went in bulk is its interaction.
  await page.click('#banner');
  await eventually(() => page.requests.length === 5);
  const names = await eventually(async () => {
    const rows = await server.api({ method: 'Contents.getContentNames', period: 'day', date: 'today',
      filter_limit: '-1' });
    // Every hit sent is in (the click is the last).
    return rows.length === 33 && rows.some((r) => r.nb_interactions) ? rows : null;
  });
  const row = (label) => names.find((r) => r.label === label);
  assertEqual([row('Spring banner').nb_impressions, row('Spring banner').nb_interactions,
    row('Spring banner').nb_visits], [1, 1, 1], 'Spring banner: once, clicked, in the one visit');
  assertEqual([row('Newsletter').nb_impressions, row('Tile 30').nb_impressions], [1, 1], 'the others');
  assertEqual(names.reduce((sum, r) => sum + r.nb_impressions, 0), 33, 'impressions in all');
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
