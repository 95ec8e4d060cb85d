// The rest of Tally's JavaScript tracker, loaded by the core (tally.js) the
// first time a page uses a command the core does not know: automatic link
// tracking, history (single-page apps), heartbeat, consent variants and the
// visitor cookie, opt-out, ecommerce, content tracking, and bulk requests.
// The core calls _tallyExtension for each tracker that needs it, with its
// command table, its shared `page` state and its send(); the commands added
// here keep Matomo's names and arguments. Served at /tally-ext.js; see
// docs/tracker.md.
window._tallyExtension = (tracker, page, send) => {
  var d = document;
  var hasCookie = (name) => RegExp('(^|; )' + name + '=').test(d.cookie);
  var setCookie = (name, value, seconds) => {
    d.cookie = name + '=' + value + ';path=/;SameSite=Lax;max-age=' + seconds +
      (location.protocol == 'https:' ? ';secure' : '');
  };
  var hours = (count) => (count || 262800) * 3600; // Matomo's default: 30 years
  var hasClass = (element, classes) => classes.some((name) => element.classList.contains(name));
  var once = {};
  // Runs setup only the first time a command asks for it.
  var first = (what) => !once[what] && (once[what] = true);

  // Several hits at once (the content impressions of one scan, hits held
  // for consent): bulk requests of at most 30 hits, as Matomo's tracker
  // sends impressions, each a beacon well under the 64 KB a browser lets
  // beacons in flight carry. A bulk request the browser refuses to beacon
  // goes hit by hit, through the core's fallbacks.
  var oneByOne = page.transmit;
  var bulk = (hits) => {
    var visitorId = page.visitorId();
    return navigator.sendBeacon && navigator.sendBeacon(tracker.getTrackerUrl(), JSON.stringify({
      requests: hits.map((params) => '?' + page.query(Object.assign(params, { _id: visitorId })))
    }));
  };
  page.transmit = (hits) => {
    while (hits.length) {
      var chunk = hits.splice(0, 30);
      if (chunk[1] && bulk(chunk)) page.lastHitAt = Date.now();
      else oneByOne(chunk);
    }
  };

  // Cookies: only when the site asked for cookie consent, and got it.
  var cookieConsentRequired = false;
  var cookieConsentGiven = page.consentGiven || hasCookie('mtm_cookie_consent');
  var deleteVisitorCookies = () => d.cookie.replace(/(_pk_id\.[^=]+)=/g, (all, name) => setCookie(name, '', 0));
  // Matomo's _pk_id cookie, so a site switching from Matomo keeps its visitors.
  page.visitorId = () => {
    if (page.noCookies || !cookieConsentRequired || !cookieConsentGiven) return '';
    var site = tracker.getSiteId();
    var found = d.cookie.match(RegExp('_pk_id\\.' + site + '\\.\\w+=([0-9a-f]{16})'));
    var id = found ? found[1]
      : Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => (b + 256).toString(16).slice(1)).join('');
    setCookie('_pk_id.' + site + '.tally', id, 33955200); // 13 months, as Matomo
    return id;
  };

  // Link tracking (Matomo's defaults): a link to a file with one of these
  // extensions is a download.
  var downloads = '3mf|7z|aac|apk|arc|arj|asc|asf|asx|avi|azw3|bin|bz2?|csv|deb|dmg|docx?|epub|exe|' +
    'flv|gif|gz|gzip|hqx|ibooks|jar|jpe?g|js|md5|mobi|mov|movie|mp[234]|mpe?g|ms[ip]|obj|od[bfgst]|' +
    'og[gv]|pdf|phps|png|ply|pptx?|qtm?|ra[mr]?|rpm|rtf|sea|sha|sha256|sha512|sig|sit|stl|tar|' +
    'tbz2?|tgz|torrent|txt|wav|wm[av]|wpd|xlsx?|xml|xz|z|zip';
  var ignoreClasses = ['matomo_ignore', 'piwik_ignore'];
  var downloadClasses = ['matomo_download', 'piwik_download'];
  var linkClasses = ['matomo_link', 'piwik_link'];

  // Clicks (left and middle) on links: a download by class, `download`
  // attribute or extension; an outlink by class or a host that is neither
  // the page's nor one of setDomains' ("*.example.com" takes subdomains).
  function onLinkClick(event) {
    var link = event.button < 2 && event.target.closest && event.target.closest('a[href],area[href]');
    if (!link || !/^https?:$/.test(link.protocol) || hasClass(link, ignoreClasses)) return;
    var host = link.hostname.toLowerCase();
    var internal = page.domains.concat(location.hostname).some((domain) => {
      domain = domain.replace(/\/.*/, '').toLowerCase();
      return host == domain || domain[0] == '*' && ('.' + host).endsWith(domain.slice(1));
    });
    var type = hasClass(link, downloadClasses) || link.hasAttribute('download') ||
      RegExp('\\.(' + downloads + ')$', 'i').test(link.pathname) ? 'download'
      : hasClass(link, linkClasses) || !internal ? 'link' : '';
    if (type) tracker.trackLink(link.href, type);
  }

  // Ecommerce: the cart, by SKU, as Matomo's ec_items rows.
  var cart = {};
  var items = () => JSON.stringify(Object.values(cart));
  var categories = (category) => Array.isArray(category) ? JSON.stringify(category) : category;

  // Content tracking: blocks, and what names them (Matomo's attributes and classes).
  var blocks = '[data-track-content],.matomoTrackContent,.piwikTrackContent';
  var impressed = new WeakSet(), sentImpressions = new Set(), visibleOnly = null;
  var part = (block, attribute, matomoClass) =>
    block.matches('[' + attribute + ']') ? block
      : block.querySelector('[' + attribute + '],.matomo' + matomoClass + ',.piwik' + matomoClass) || block;
  function describe(block) {
    var piece = part(block, 'data-content-piece', 'ContentPiece');
    var target = part(block, 'data-content-target', 'ContentTarget');
    var media = piece.src || piece.data || '';
    return {
      c_n: block.dataset.contentName || media || block.title || 'Unknown',
      c_p: piece.dataset.contentPiece || media || 'Unknown',
      c_t: target.dataset.contentTarget || target.href || ''
    };
  }
  // The impressions of blocks found together, sent together: each content
  // (name, piece, target) once per page.
  function impressions(found) {
    send(found.map((block) => {
      var content = describe(block), key = JSON.stringify(content), fresh = !sentImpressions.has(key);
      impressed.add(block);
      sentImpressions.add(key);
      return fresh && content;
    }).filter(Boolean));
  }
  // A scan of the whole page waits until the page is parsed (a snippet in
  // <head> runs before the blocks exist), as Matomo's tracker does.
  function findBlocks(node) {
    if (!node && d.readyState == 'loading') return d.addEventListener('DOMContentLoaded', () => findBlocks());
    var found = Array.from((node || d).querySelectorAll(blocks));
    if (node && node.matches && node.matches(blocks)) found.unshift(node);
    startInteractions();
    if (visibleOnly) found.forEach((block) => visibleOnly.observe(block));
    else impressions(found);
  }
  // A click inside a block whose impression was sent is an interaction.
  function startInteractions() {
    if (first('interactions')) d.addEventListener('click', (event) => {
      var block = event.target.closest && event.target.closest(blocks);
      if (block && impressed.has(block) && !block.hasAttribute('data-content-ignoreinteraction')) {
        send(Object.assign(describe(block), { c_i: 'click' }));
      }
    }, true);
  }

  Object.assign(tracker, {
    enableLinkTracking: () => {
      if (first('links')) ['click', 'auxclick'].forEach((type) => d.addEventListener(type, onLinkClick, true));
    },
    setDownloadExtensions: (extensions) => { downloads = [].concat(extensions).join('|'); },
    addDownloadExtensions: (extensions) => { downloads += '|' + [].concat(extensions).join('|'); },
    setIgnoreClasses: (classes) => { ignoreClasses = ignoreClasses.concat(classes); },
    setDownloadClasses: (classes) => { downloadClasses = downloadClasses.concat(classes); },
    setLinkClasses: (classes) => { linkClasses = linkClasses.concat(classes); },

    // A single-page app changed its URL (history API, back/forward, hash):
    // a page view with the previous URL as its referrer, once the app has
    // had a moment to set the new title. A URL already tracked is not again.
    enableHistoryTracking: () => {
      if (!first('history')) return;
      var lastUrl = location.href;
      var changed = () => setTimeout(() => {
        if (location.href == lastUrl) return;
        page.referrer = lastUrl;
        lastUrl = location.href;
        page.url = page.title = '';
        tracker.trackPageView();
      }, 50);
      ['pushState', 'replaceState'].forEach((method) => {
        var original = history[method];
        history[method] = function () {
          var result = original.apply(this, arguments);
          changed();
          return result;
        };
      });
      addEventListener('popstate', changed);
      addEventListener('hashchange', changed);
    },

    // A ping extends the time of the page view's visit (not before a page view).
    ping: () => { if (page.viewId) send({ ping: 1 }); },

    // A ping every `seconds` (15 by default) while the page has focus and
    // nothing else was sent, and one when the page is hidden: the visit's
    // last time is when the visitor really left.
    enableHeartBeatTimer: (seconds) => {
      if (!first('heartbeat')) return;
      var delay = (seconds || 15) * 1000;
      setInterval(() => { if (d.hasFocus() && Date.now() - page.lastHitAt >= delay) tracker.ping(); }, delay);
      d.addEventListener('visibilitychange', () => { if (d.hidden) tracker.ping(); });
    },

    // Matomo's setConsentGiven also gives cookie consent unless told not to.
    setConsentGiven: ((giveTrackingConsent) => (cookiesToo) => {
      if (cookiesToo !== false) cookieConsentGiven = true;
      giveTrackingConsent();
    })(tracker.setConsentGiven),
    rememberConsentGiven: (hoursToExpire) => {
      setCookie('mtm_consent', Date.now(), hours(hoursToExpire));
      tracker.setConsentGiven();
    },
    forgetConsentGiven: () => {
      page.consentGiven = false;
      setCookie('mtm_consent', '', 0);
      tracker.forgetCookieConsentGiven();
    },
    requireCookieConsent: () => { cookieConsentRequired = true; },
    setCookieConsentGiven: () => { cookieConsentGiven = true; },
    rememberCookieConsentGiven: (hoursToExpire) => {
      setCookie('mtm_cookie_consent', Date.now(), hours(hoursToExpire));
      cookieConsentGiven = true;
    },
    forgetCookieConsentGiven: () => {
      cookieConsentGiven = false;
      setCookie('mtm_cookie_consent', '', 0);
      deleteVisitorCookies();
    },
    // Matomo's opt-out cookie, which the core checks before every hit.
    optUserOut: () => {
      setCookie('mtm_consent_removed', 1, hours());
      deleteVisitorCookies();
    },
    forgetUserOptOut: () => { setCookie('mtm_consent_removed', '', 0); },
    // The visitor's choice from the opt-out page (/optout, in an iframe on
    // this page): only a message from Tally's own origin counts.
    tallyOptOutMessage: (event) => {
      var endpoint = tracker.getTrackerUrl();
      if (endpoint && event.origin == new URL(endpoint, location.href).origin) {
        tracker[event.data.tallyOptOut ? 'optUserOut' : 'forgetUserOptOut']();
      }
    },

    setEcommerceView: (sku, name, category, price) => {
      page.nextView = { _pks: sku, _pkn: name, _pkc: categories(category), _pkp: price };
    },
    addEcommerceItem: (sku, name, category, price, quantity) => {
      if (sku) cart[sku] = [String(sku), name || '', category || '', +price || 0, +quantity || 1];
    },
    removeEcommerceItem: (sku) => { delete cart[sku]; },
    clearEcommerceCart: () => { cart = {}; },
    getEcommerceItems: () => Object.values(cart).map((item) => item.slice()),
    trackEcommerceCartUpdate: (grandTotal) => { send({ idgoal: 0, revenue: grandTotal, ec_items: items() }); },
    // An order needs its id and grand total (Matomo refuses it otherwise);
    // the cart is empty afterwards.
    trackEcommerceOrder: (orderId, grandTotal, subTotal, tax, shipping, discount) => {
      if (orderId == null || grandTotal == null) return;
      send({ idgoal: 0, ec_id: orderId, revenue: grandTotal, ec_st: subTotal, ec_tx: tax,
        ec_sh: shipping, ec_dt: discount, ec_items: items() });
      cart = {};
    },

    trackAllContentImpressions: () => findBlocks(),
    // Impressions of the blocks as they come into view (an
    // IntersectionObserver: Matomo's scroll and interval checks are not needed).
    trackVisibleContentImpressions: () => {
      visibleOnly = visibleOnly || new IntersectionObserver((entries) => {
        var visible = entries.filter((entry) => entry.isIntersecting).map((entry) => entry.target);
        visible.forEach((block) => visibleOnly.unobserve(block));
        impressions(visible);
      });
      findBlocks();
    },
    trackContentImpressionsWithinNode: (node) => { if (node) findBlocks(node); },
    trackContentImpression: (name, piece, target) => {
      if (name) send({ c_n: name, c_p: piece || 'Unknown', c_t: target });
    },
    trackContentInteraction: (interaction, name, piece, target) => {
      if (interaction && name) send({ c_i: interaction, c_n: name, c_p: piece || 'Unknown', c_t: target });
    },
    trackContentInteractionNode: (node, interaction) => {
      var block = node && node.closest && node.closest(blocks);
      if (block) send(Object.assign(describe(block), { c_i: interaction || 'Unknown' }));
    }
  });
};
