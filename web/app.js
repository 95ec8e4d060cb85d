// The dashboard's entry point, bundled by esbuild (scripts/build-web.sh) with
// Preact, htm and uPlot into /assets/app.js (docs/dashboard.md). The shell
// paints at once; each report loads on its own, in parallel.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { html, Loading } from './components/ui.js';
import { LoginForm, Shell, FatalError } from './components/shell.js';
import { currentSession, logout, onSessionLost } from './lib/api.js';
import { useView, navigate } from './lib/route.js';
import { ViewContext } from './lib/context.js';
import { SECTIONS, pageById } from './pages/index.js';

function App() {
  const view = useView();
  // Who is logged in and the sites they may see (GET /session, or the
  // answer of POST /login): undefined while asking, null when nobody is.
  const [session, setSession] = useState(undefined);
  const [lost, setLost] = useState(null);
  const [problem, setProblem] = useState(null);

  useEffect(() => { currentSession().then(setSession, setProblem); }, []);
  useEffect(() => onSessionLost(() => {
    if (session) setLost(true);
    setSession(null);
  }), [session]);
  const loggedIn = (s) => {
    setLost(null);
    setSession(s);
  };
  const sites = session && session.sites;
  useEffect(() => {
    if (sites && sites.length && !sites.some((s) => String(s.idsite) === view.site))
      navigate(view, { site: String(sites[0].idsite) }, { replace: true });
  }, [sites, view.site]);

  if (problem) return html`<${FatalError} error=${problem} />`;
  if (session === undefined) return html`<${Loading} label="Loading Tally…" />`;
  if (!session) return html`<${LoginForm} problem=${lost && new Error('Your session ended; please log in again.')}
    onLogin=${loggedIn} />`;
  if (!sites.length)
    return html`<${FatalError} error=${new Error(`${session.login} has no access to any site yet: a superuser can grant it (tally user grant).`)} />`;
  const site = sites.find((s) => String(s.idsite) === view.site);
  if (!site) return html`<${Loading} />`;
  const page = pageById(view.page);
  const endSession = () => logout().finally(() => setSession(null));
  return html`<${ViewContext.Provider} value=${{ view, site, session, sites }}>
    <${Shell} session=${session} sites=${sites} view=${view} site=${site} sections=${SECTIONS}
      page=${page} onLogout=${endSession} />
  <//>`;
}

render(html`<${App} />`, document.getElementById('app'));
