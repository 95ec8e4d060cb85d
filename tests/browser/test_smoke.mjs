// The two things a browser loads from Tally, in a real browser: the
// dashboard renders under its Content-Security-Policy without errors, and a
// page that pastes Matomo's snippet pointed at Tally sends a page view that
// reaches the reports.
import { test, done, assert, assertEqual, startTally, launchBrowser, newPage, screenshotPath,
  eventually } from './lib.mjs';

const server = await startTally();
const browser = await launchBrowser();

test('dashboard renders under its CSP with no errors', async () => {
  const page = await newPage(browser);
  const res = await page.goto(server.url + '/');
  assert(res.headers()['content-security-policy'].includes("script-src 'self'"), 'CSP header');
  await page.waitForSelector('h1');
  assertEqual(await page.textContent('h1'), 'Tally', 'heading');
  await page.screenshot({ path: screenshotPath('dashboard') });
  // Nobody is logged in: GET /session is answered 401, which chromium logs.
  const problems = page.problems.filter((p) => !(p.includes('status of 401') && p.endsWith('/session)')));
  assertEqual(problems, [], 'page problems');
  await page.context().close();
});

test("Matomo's snippet pointed at Tally tracks a page view", async () => {
  const page = await newPage(browser);
  // The tracked site: served by the browser itself, on its own origin.
  await page.route('https://shop.example.com/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><title>Blue mug</title><h1>Blue mug</h1>
      <script>
        var _paq = window._paq = window._paq || [];
        _paq.push(['trackPageView']);
        (function() {
          var u = '${server.url}/';
          _paq.push(['setTrackerUrl', u + 'matomo.php']);
          _paq.push(['setSiteId', '1']);
          var d = document, g = d.createElement('script'), s = d.getElementsByTagName('script')[0];
          g.async = true; g.src = u + 'matomo.js'; s.parentNode.insertBefore(g, s);
        })();
      </script>`,
  }));
  await page.goto('https://shop.example.com/products/blue-mug');
  const visits = await eventually(async () => {
    const v = await server.api({ method: 'Live.getLastVisitsDetails' });
    return v.length ? v : null;
  });
  const action = visits[0].actionDetails[0];
  assertEqual(action.url, 'https://shop.example.com/products/blue-mug', 'tracked URL');
  assertEqual(action.pageTitle, 'Blue mug', 'tracked title');
  assertEqual(page.problems, [], 'page problems');
  await page.context().close();
});

await done();
