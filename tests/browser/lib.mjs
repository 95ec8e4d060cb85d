// Browser tests: the real `tally serve` on loopback, driven through Debian's
// chromium by playwright-core (npm). Each tests/browser/test_*.mjs calls
// test(name, fn) for each case and ends with `await done()`: the output is
// TAP ("ok 3 - name" / "not ok 3 - name"), which scripts/run-tests.sh counts;
// done() also stops the servers and browsers the file started.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const tallyBin = process.env.TALLY_BIN;
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// Screenshots and other files a person may want to look at after a run.
export const artifactsDir = process.env.TALLY_ARTIFACTS || path.join(os.tmpdir(), 'tally-artifacts');

const tests = [];
// Servers and browsers started by this file, stopped by done().
const cleanups = [];
export function test(name, fn) {
  tests.push({ name, fn });
}

export async function done() {
  let failed = 0;
  for (let i = 0; i < tests.length; i++) {
    const { name, fn } = tests[i];
    try {
      await fn();
      console.log(`ok ${i + 1} - ${name}`);
    } catch (err) {
      failed++;
      for (const line of String(err && err.stack || err).split('\n')) console.log(`#   ${line}`);
      console.log(`not ok ${i + 1} - ${name}`);
    }
  }
  console.log(`1..${tests.length}`);
  for (const cleanup of cleanups.reverse()) await cleanup();
  process.exit(failed ? 1 : 0);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: got ${a}, expected ${e}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// Runs `tally ARGS...` to completion and returns its stdout.
export function tally(args, input) {
  if (!tallyBin) throw new Error('TALLY_BIN is not set (scripts/run-tests.sh sets it)');
  return execFileSync(tallyBin, args, { input, encoding: 'utf8' });
}

// A fresh data folder with one site and a server on it. Returns
// { url, port, data, token, log(), stop() }; token has view access to site 1.
export async function startTally({ siteUrl = 'https://shop.example.com', extraArgs = [] } = {}) {
  const data = mkdtempSync(path.join(os.tmpdir(), 'tally-browser-'));
  tally(['site', 'add', '--data', data, '--name', 'Shop', '--url', siteUrl, '--timezone', 'UTC']);
  const token = tally(['token', 'create', '--data', data, '--site', '1']).trim().split(/\s+/).pop();
  const port = await freePort();
  const logPath = path.join(data, 'server.log');
  const child = spawn(tallyBin,
    ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--fsync', 'never', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  child.stderr.on('data', (chunk) => log.push(chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${url}/tally.js`, { method: 'HEAD' })).ok) break;
    } catch { /* not listening yet */ }
    if (tries > 100 || child.exitCode !== null)
      throw new Error(`tally serve did not start: ${Buffer.concat(log).toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const server = {
    url, port, data, token,
    log: () => Buffer.concat(log).toString(),
    // The Reporting API's JSON answer for site 1 (throws on an error status).
    async api(params) {
      const q = new URLSearchParams({ module: 'API', idSite: '1', format: 'json', token_auth: token, ...params });
      const res = await fetch(`${url}/index.php?${q}`);
      const body = await res.text();
      if (!res.ok) throw new Error(`API ${params.method}: ${res.status} ${body}`);
      return JSON.parse(body);
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
  cleanups.push(() => server.stop());
  return server;
}

// Headless chromium. --no-sandbox: CI runs as root. Tracked pages are
// served on their real public origins (page.route) while Tally listens on
// loopback, which Chrome's local-network-access checks would block; in
// production both are public.
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests'],
  });
  cleanups.push(() => browser.close());
  return browser;
}

// Headless chromium says "HeadlessChrome" in its user agent, and Tally
// (rightly) drops hits from headless browsers as bots: tracked pages get the
// user agent of the same chromium with a head.
export const desktopUserAgent =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

// A new page (in its own context) whose uncaught errors and console errors
// (CSP violations are reported there) collect in page.problems, so a test can
// assert that nothing went wrong silently.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ userAgent: desktopUserAgent, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  return page;
}

// A new page logged in to server's dashboard as login/password (the
// dashboard's own form), its problems cleared of the login's.
export async function logIn(browser, server, login, password, options) {
  const page = await newPage(browser, options);
  await page.goto(server.url + '/');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('nav.menu', { state: 'attached' });
  page.problems.length = 0;
  return page;
}

// Waits until nothing on the dashboard is loading any more.
export async function settled(page) {
  await eventually(async () => (await page.$$('.loading, [aria-busy="true"]')).length === 0, 10000);
}

export function screenshotPath(name) {
  mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, `${name}.png`);
}

// Polls fn until it returns a truthy value (hits reach reports within a
// second or two), or throws with the last value after timeoutMs.
export async function eventually(fn, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
