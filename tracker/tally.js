// Tally's JavaScript tracker, the core (at most 2 KB gzipped: the build
// checks): reads Matomo's _paq command queue and sends Matomo tracking API
// requests. The other commands (automatic link tracking, history, heartbeat,
// consent variants and cookies, opt-out, ecommerce, content) live in
// tally-ext.js, loaded only when a page pushes one of them. Minified by esbuild (scripts/build-web.sh), served at
// /tally.js (and /matomo.js, /piwik.js). See docs/tracker.md.
(() => {
  var w = window, d = document, nav = navigator;
  // Loaded twice (say as tally.js and matomo.js): the first one owns _paq.
  if (w._paq && !Array.isArray(w._paq)) return;

  var script = d.currentScript;
  var siteId = '', trackerUrl = '', appended = '', userId = '', dimensions = {};
  var honourDnt = true, timings = true;
  // Hits wait in `held` while consent is required and not given; consent
  // remembered by rememberConsentGiven (Matomo's cookie) counts at once.
  var consentRequired = false, held = [];
  // What tally-ext.js reads and changes (its names survive minification).
  var page = {
    url: '', title: '', referrer: d.referrer, viewId: '', lastHitAt: 0, nextView: {},
    consentGiven: /(^|; )mtm_consent=/.test(d.cookie),
    visitorId: () => '', noCookies: false, domains: []
  };
  // Commands waiting while tally-ext.js loads (null when none is loading).
  var waiting = null, extensionTried = false;

  var random = () => Math.random().toString(36).slice(2, 8);

  var optedOut = () => /(^|; )mtm_consent_removed=/.test(d.cookie);

  function transmit(params) {
    params._id = page.visitorId();
    var query = Object.keys(params).map((key) =>
      params[key] == null || params[key] === '' ? '' : '&' + key + '=' + encodeURIComponent(params[key]));
    var url = trackerUrl + (trackerUrl.indexOf('?') < 0 ? '?' : '&') + query.join('').slice(1) + appended;
    page.lastHitAt = Date.now();
    // sendBeacon survives the page being closed; fetch keepalive is its
    // fallback when the beacon is refused, an image the last resort.
    if (!(nav.sendBeacon && nav.sendBeacon(url))) {
      fetch(url, { method: 'POST', keepalive: true, mode: 'no-cors', credentials: 'omit' })
        .catch(() => { new Image().src = url; });
    }
  }

  // One hit: the page's context, the custom dimensions, then the hit's own
  // parameters. Nothing leaves when the browser says Do Not Track or Global
  // Privacy Control, or the visitor opted out.
  function send(params) {
    if (!siteId || !trackerUrl || optedOut() ||
        honourDnt && (nav.doNotTrack == '1' || nav.globalPrivacyControl)) return;
    var now = new Date();
    params = Object.assign({
      idsite: siteId, rec: 1, r: random(), url: page.url || location.href, urlref: page.referrer,
      pv_id: page.viewId, uid: userId, res: screen.width + 'x' + screen.height,
      h: now.getHours(), m: now.getMinutes(), s: now.getSeconds(), send_image: 0
    }, dimensions, params);
    if (consentRequired && !page.consentGiven) held.push(params);
    else transmit(params);
  }

  // Page load timings in ms (Navigation Timing), with the first page view:
  // each name is the time from its first mark to its second.
  function pageTimings() {
    var entry = timings && performance.getEntriesByType('navigation')[0], result = {};
    timings = false;
    ('net fetchStart connectEnd srv requestStart responseStart tfr responseStart responseEnd ' +
     'dm1 responseEnd domInteractive dm2 domInteractive domComplete onl loadEventStart loadEventEnd')
      .replace(/(\w+) (\w+) (\w+)/g, (all, name, start, end) => {
        if (entry && entry[end] > 0) result['pf_' + name] = Math.round(entry[end] - entry[start]);
      });
    return result;
  }

  // Every core command under Matomo's name, with its arguments; also `this`
  // of a function pushed to _paq. tally-ext.js adds the others.
  var tracker = {
    setSiteId: (id) => { siteId = String(id); },
    getSiteId: () => siteId,
    setTrackerUrl: (url) => { trackerUrl = String(url); },
    setCustomUrl: (url) => { page.url = url; },
    setReferrerUrl: (url) => { page.referrer = url; },
    setDocumentTitle: (title) => { page.title = title; },
    setUserId: (id) => { userId = id; },
    resetUserId: () => { userId = ''; },
    getUserId: () => userId,
    setCustomDimension: (id, value) => { dimensions['dimension' + id] = value; },
    deleteCustomDimension: (id) => { delete dimensions['dimension' + id]; },
    getCustomDimension: (id) => dimensions['dimension' + id],
    appendToTrackingUrl: (query) => { appended = '&' + query; },
    setDoNotTrack: (honour) => { honourDnt = honour; },
    disablePerformanceTracking: () => { timings = false; },
    disableCookies: () => { page.noCookies = true; },
    setDomains: (hosts) => { page.domains = [].concat(hosts); },
    getVisitorId: () => page.visitorId(),
    isUserOptedOut: optedOut,

    trackPageView: (title) => {
      page.viewId = random();
      send(Object.assign({ action_name: title || page.title || d.title }, pageTimings(), page.nextView));
      page.nextView = {};
    },
    trackEvent: (category, action, name, value) => {
      send({ e_c: category, e_a: action, e_n: name, e_v: value, ca: 1 });
    },
    trackGoal: (id, revenue) => { send({ idgoal: id, revenue: revenue }); },
    trackLink: (url, type) => { send({ [type == 'download' ? type : 'link']: url }); },
    trackSiteSearch: (keyword, category, count) => {
      send({ search: keyword, search_cat: category, search_count: count });
    },
    ping: () => { if (page.viewId) send({ ping: 1 }); },
    requireConsent: () => { consentRequired = true; },
    setConsentGiven: () => {
      page.consentGiven = true;
      held.splice(0).forEach(transmit);
    }
  };

  // Runs one _paq command: a function (with the tracker as `this`) or
  // [name, ...arguments]. The first command of tally-ext.js loads it, and
  // later commands wait for it so their order is kept. Unknown commands do
  // nothing. Matomo's callbacks of track* commands run once the hit is sent.
  function run(command) {
    var name = command[0];
    if (waiting) return waiting.push(command);
    if (typeof name == 'function') return name.call(tracker);
    if (!tracker[name] && !extensionTried &&
        /Ecommerce|Content|Consent|HeartBeat|History|OptOut|optUserOut|LinkTracking|Extensions|Classes/.test(name)) {
      extensionTried = true;
      waiting = [command];
      var extension = d.createElement('script');
      extension.src = (script && script.src || trackerUrl).replace(/[^/]*$/, 'tally-ext.js');
      extension.onload = extension.onerror = () => {
        if (w._tallyExtension) w._tallyExtension(tracker, page, send);
        var queued = waiting;
        waiting = null;
        queued.forEach(run);
      };
      return d.head.appendChild(extension);
    }
    if (!tracker[name]) return;
    tracker[name].apply(tracker, command.slice(1));
    if (/^track/.test(name)) command.forEach((arg) => typeof arg == 'function' && arg());
  }

  // The opt-out page (/optout, in an iframe on this page) tells the tracker
  // the visitor's choice; only messages from Tally's own origin count.
  w.addEventListener('message', (event) => {
    var choice = event.data && event.data.tallyOptOut;
    if (choice != null && trackerUrl && event.origin == new URL(trackerUrl, location.href).origin) {
      run([choice ? 'optUserOut' : 'forgetUserOptOut']);
    }
  });

  // As Matomo's tracker: the snippet queues trackPageView before it names
  // the site and the endpoint, so settings run first. The one-line snippet
  // (<script src=".../tally.js" data-site="1">) sets up itself: its
  // endpoint beside the script, a page view, link and history tracking.
  var queue = w._paq || [];
  var site = script && script.dataset.site;
  if (site) {
    queue = [['setSiteId', site], ['setTrackerUrl', script.src.replace(/[^/]*$/, 'tally')]]
      .concat(queue, [['trackPageView'], ['enableLinkTracking'], ['enableHistoryTracking']]);
  }
  var isSetting = (command) => /^(set|require|disable)/.test(command[0]);
  w._paq = { push: (...commands) => commands.forEach(run) };
  queue.filter(isSetting).concat(queue.filter((command) => !isSetting(command))).forEach(run);
})();
