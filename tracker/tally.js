// Tally's JavaScript tracker: reads Matomo's _paq command queue and sends
// hits to the Matomo tracking API. Minified by esbuild (scripts/build-web.sh)
// and served at /tally.js (and /matomo.js).
(function () {
  var siteId = '';
  var trackerUrl = '';

  function send(params) {
    if (!siteId || !trackerUrl) return;
    var query = 'idsite=' + encodeURIComponent(siteId) + '&rec=1&url=' +
      encodeURIComponent(location.href) + '&urlref=' + encodeURIComponent(document.referrer) +
      '&r=' + String(Math.random()).slice(2, 8) + params;
    var url = trackerUrl + (trackerUrl.indexOf('?') < 0 ? '?' : '&') + query;
    if (!(navigator.sendBeacon && navigator.sendBeacon(url))) new Image().src = url;
  }

  var commands = {
    setSiteId: function (id) { siteId = String(id); },
    setTrackerUrl: function (url) { trackerUrl = String(url); },
    trackPageView: function (title) {
      send('&action_name=' + encodeURIComponent(title || document.title));
    }
  };

  function run(command) {
    var fn = commands[command[0]];
    if (fn) fn.apply(null, command.slice(1));
  }

  // As Matomo's tracker: the snippet queues trackPageView before it names
  // the site and the endpoint, so those settings run first.
  var settings = { setSiteId: 1, setTrackerUrl: 1 };
  var queue = window._paq || [];
  window._paq = { push: run };
  var i;
  for (i = 0; i < queue.length; i++) if (settings[queue[i][0]]) run(queue[i]);
  for (i = 0; i < queue.length; i++) if (!settings[queue[i][0]]) run(queue[i]);
})();
