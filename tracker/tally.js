// Tally's JavaScript tracker, the core (at most 2 KB gzipped: the build
// checks): reads Matomo's _paq command queue, provides Matomo's globals
// (Matomo, Piwik, the *AsyncInit callbacks) and sends Matomo tracking API
// requests. The other commands (automatic link tracking, history, heartbeat,
// consent variants and cookies, opt-out, ecommerce, content) and bulk
// requests live in tally-ext.js, loaded the first time a page uses a command
// the core does not know. Minified by esbuild
// (scripts/build-web.sh), served at /tally.js (and /matomo.js, /piwik.js).
// See docs/tracker.md.
(() => {
  var w = window, d = document, nav = navigator;
  // Loaded twice (say as tally.js and matomo.js): the first one owns _paq.
  if (w._paq && !Array.isArray(w._paq)) return;

  var script = d.currentScript;
  var random = () => Math.random().toString(36).slice(2, 8);
  var optedOut = () => /(^|; )mtm_consent_removed=/.test(d.cookie);
  // tally-ext.js, loaded once for every tracker of the page: settles when it
  // has loaded or failed to.
  var extension;

  // One tracker: an endpoint, a site and their settings. _paq drives one
  // (Matomo's "async tracker"); Matomo.getTracker makes more. Returns
  // [the tracker object, its run()]: every lowercase method of the object
  // runs the command of that name through run(), as _paq.push does.
  function newTracker(trackerUrl, siteId) {
    var appended = '', userId = '', dimensions = {};
    var honourDnt = true, timings = true;
    // Hits wait in `held` while consent is required and not given; consent
    // remembered by rememberConsentGiven (Matomo's cookie) counts at once.
    var consentRequired = false, held = [];
    // What tally-ext.js reads and changes (its names survive minification);
    // url, title, viewId and noCookies start undefined.
    var page = {
      referrer: d.referrer, nextView: {}, lastHitAt: 0,
      consentGiven: /(^|; )mtm_consent=/.test(d.cookie),
      visitorId: () => '', domains: []
    };
    // Commands waiting while tally-ext.js loads (null when none is loading).
    var waiting = null, extensionTried = false;

    var query = (params) => Object.keys(params).map((key) =>
      params[key] == null || params[key] === '' ? '' : '&' + key + '=' + encodeURIComponent(params[key]))
      .join('').slice(1) + appended;

    // One request per hit: sendBeacon (a POST with the parameters in the
    // query string and an empty body, as Matomo's tracker sends it)
    // survives the page being closed; fetch keepalive is its fallback when
    // the beacon is refused, an image the last resort.
    function transmit(params) {
      params._id = page.visitorId();
      var url = trackerUrl + (trackerUrl.indexOf('?') < 0 ? '?' : '&') + query(params);
      page.lastHitAt = Date.now();
      if (!(nav.sendBeacon && nav.sendBeacon(url))) {
        fetch(url, { method: 'POST', keepalive: true, mode: 'no-cors', credentials: 'omit' })
          .catch(() => { new Image().src = url; });
      }
    }
    // Hits sent together (content impressions, hits held for consent) go
    // one by one here; tally-ext.js replaces this with bulk requests.
    page.transmit = (hits) => hits.forEach(transmit);
    page.query = query;

    // Hits (one, or a list sent together): the page's context, the custom
    // dimensions, then each hit's own parameters. Nothing leaves when the
    // browser says Do Not Track or Global Privacy Control, or the visitor
    // opted out.
    function send(hits) {
      if (!siteId || !trackerUrl || optedOut() ||
          honourDnt && (nav.doNotTrack == '1' || nav.globalPrivacyControl)) return;
      var now = new Date();
      hits = [].concat(hits).map((params) => Object.assign({
        idsite: siteId, rec: 1, r: random(), url: page.url || location.href, urlref: page.referrer,
        pv_id: page.viewId, uid: userId, res: screen.width + 'x' + screen.height,
        h: now.getHours(), m: now.getMinutes(), s: now.getSeconds(), send_image: 0
      }, dimensions, params));
      if (consentRequired && !page.consentGiven) held.push(...hits);
      else page.transmit(hits);
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

    // Every core command under Matomo's name, with its arguments.
    // tally-ext.js adds the others.
    var tracker = {
      setSiteId: (id) => { siteId = String(id); },
      getSiteId: () => siteId,
      setTrackerUrl: (url) => { trackerUrl = String(url); },
      getTrackerUrl: () => trackerUrl,
      setCustomUrl: (url) => { page.url = url; },
      getCurrentUrl: () => page.url || location.href,
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
      getPageViewId: () => page.viewId,
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
      requireConsent: () => { consentRequired = true; },
      setConsentGiven: () => {
        page.consentGiven = true;
        page.transmit(held.splice(0));
      }
    };
    // Matomo's tracker object: a method per command. A name Tally does not
    // know does nothing (and returns undefined) instead of throwing. What
    // every object has (toString, ...), symbols (String() names them
    // "Symbol(...)") and capitalised names stay the object's own, and `then`
    // undefined, so the object is not mistaken for a promise.
    var methods = new Proxy(tracker, {
      get: (target, name) => name in {} || name == 'then' || !/^[a-z]/.test(String(name))
        ? target[name] : (...args) => run([name, ...args])
    });

    // Runs one command: a function (with the tracker as `this`) or
    // [name, ...arguments], and returns what the command returns. The first
    // command the core does not know loads tally-ext.js, and later commands
    // wait for it so their order is kept; getters answer at once. Unknown
    // commands do nothing. Matomo's callbacks of track* commands run once
    // the hit is sent.
    function run(command) {
      var name = command[0], args = command.slice(1);
      if (waiting && !/^(get|is)/.test(name)) return void waiting.push(command);
      if (typeof name == 'function') return name.call(methods);
      if (!tracker[name] && !extensionTried) {
        extensionTried = true;
        waiting = [command];
        extension = extension || new Promise((loaded) => {
          var element = d.createElement('script');
          element.src = (script && script.src || trackerUrl).replace(/[^/]*$/, 'tally-ext.js');
          element.onload = element.onerror = loaded;
          d.head.appendChild(element);
        });
        return void extension.then(() => {
          if (w._tallyExtension) w._tallyExtension(tracker, page, send);
          var queued = waiting;
          waiting = null;
          queued.forEach(run);
        });
      }
      if (typeof tracker[name] != 'function') return;
      var result = tracker[name](...args);
      if (/^track/.test(name)) args.forEach((arg) => typeof arg == 'function' && arg());
      return result;
    }
    return [methods, run];
  }

  var [asyncTracker, runAsync] = newTracker('', '');
  var globals = {
    // A new tracker of its own (by default the async tracker's endpoint and
    // site), not driven by _paq.
    getTracker: (url, site) => {
      return newTracker(url || asyncTracker.getTrackerUrl(), String(site || asyncTracker.getSiteId()))[0];
    },
    getAsyncTracker: () => asyncTracker,
    getAsyncTrackers: () => [asyncTracker]
  };
  w.Matomo = w.Piwik = globals;

  // The opt-out page (/optout, in an iframe on this page) tells the tracker
  // the visitor's choice; tally-ext.js checks where the message came from.
  w.addEventListener('message', (event) => {
    if (event.data && event.data.tallyOptOut != null) runAsync(['tallyOptOutMessage', event]);
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
  w._paq = { push: (...commands) => commands.forEach(runAsync) };
  queue.filter(isSetting).concat(queue.filter((command) => !isSetting(command))).forEach(runAsync);
  // Matomo's callbacks for code that waits for the tracker: plugins' first.
  [].concat(w.matomoPluginAsyncInit, w.piwikAsyncInit, w.matomoAsyncInit)
    .forEach((init) => init && init());
})();
