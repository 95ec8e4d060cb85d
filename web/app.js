// The dashboard's entry point: bundled by esbuild (scripts/build-web.sh)
// with Preact and htm into /assets/app.js.
import { h, render } from 'preact';
import htm from 'htm';
import './app.css';

const html = htm.bind(h);

function App() {
  return html`<main><h1>Tally</h1><p>The dashboard is being built (issue 7).</p></main>`;
}

render(html`<${App} />`, document.getElementById('app'));
