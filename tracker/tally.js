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

  var queue = window._paq || [];
  window._paq = { push: run };
  for (var i = 0; i < queue.length; i++) run(queue[i]);
})();
