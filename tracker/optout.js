// Tally's opt-out page (/optout), for a site to embed in an iframe. The
// choice is kept in this browser: in localStorage here (which browsers keep
// apart per embedding site) to show it again, and sent to the embedding
// page, where Tally's tracker (if the page runs it) keeps it in Matomo's
// first-party opt-out cookie and checks it before every hit. Matomo's
// styling parameters (backgroundColor, fontColor, fontSize, fontFamily) are
// applied through the DOM, which the page's CSP allows.
(() => {
  var key = 'tally_optout';
  var box = document.getElementById('tracked');
  var status = document.getElementById('status');
  var params = new URLSearchParams(location.search);
  var color = (value) => /^[0-9a-f]{3,8}$/i.test(value) ? '#' + value : value;
  var style = document.body.style;
  style.background = color(params.get('backgroundColor') || '');
  style.color = color(params.get('fontColor') || '');
  style.fontSize = params.get('fontSize') || '';
  style.fontFamily = params.get('fontFamily') || 'system-ui, sans-serif';

  var optedOut = false;
  try { optedOut = localStorage.getItem(key) == '1'; } catch (e) { /* storage blocked: not opted out yet */ }
  function show() {
    box.checked = !optedOut;
    status.textContent = navigator.doNotTrack == '1' || navigator.globalPrivacyControl
      ? 'Your browser asks sites not to track you (Do Not Track or Global Privacy Control): your visits are not measured.'
      : box.checked ? 'Your visits to this site are measured anonymously. Uncheck the box to opt out.'
        : 'You have opted out: your visits to this site are not measured. Check the box to opt in again.';
  }
  box.disabled = false;
  box.addEventListener('change', () => {
    optedOut = !box.checked;
    try {
      if (!optedOut) localStorage.removeItem(key);
      else localStorage.setItem(key, '1');
    } catch (e) { /* storage blocked: the embedding page still hears the choice */ }
    // The choice is not a secret: any embedding page may hear it.
    parent.postMessage({ tallyOptOut: optedOut }, '*');
    show();
  });
  show();
})();
