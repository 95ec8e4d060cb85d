// Settings: the site, goals, funnels, users and tokens, and the tracking
// code, all through the Reporting API's write methods. What the server
// refuses is shown with its reason.
import { useState } from 'preact/hooks';
import { html, useApi, Async, Section, ErrorBox } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useViewContext } from '../lib/context.js';

// A form that calls `method` with its fields and says how it went.
function ApiForm({ method, fields, label, onDone, children, extra = () => ({}) }) {
  const [state, setState] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const params = {};
    for (const [name, value] of form) {
      if (name.endsWith('[]')) (params[name] ||= []).push(value);
      else params[name] = value;
    }
    setState({ busy: true });
    try {
      const answer = await api(method, { ...fields, ...params, ...extra(form) });
      setState({ done: answer });
      if (onDone) onDone(answer, e.target);
    } catch (error) {
      setState({ error });
    }
  };
  return html`<form class="settings-form" onSubmit=${submit}>
    ${children}
    <div class="actions"><button type="submit" disabled=${state.busy}>${label}</button>
      ${state.done && html`<span role="status" class="ok">Saved.</span>`}</div>
    ${state.error && html`<${ErrorBox} error=${state.error} title="Not saved" />`}
  </form>`;
}

export function SitesSettings() {
  const { view, site, session } = useViewContext();
  const detail = useApi('SitesManager.getSiteFromId', { idSite: view.site });
  return html`
    <${Section} title=${'Site: ' + site.name}>
      <${Async} result=${detail}>${(s) => html`<${ApiForm} key=${s.idsite} method="SitesManager.updateSite"
          fields=${{ idSite: view.site }} label="Save site"
          extra=${(form) => ({ 'urls[]': String(form.get('urls')).split(/\s+/).filter(Boolean), urls: undefined,
            honourDnt: form.get('honourDnt') ? 1 : 0 })}>
        <label>Name <input name="siteName" value=${s.name} required /></label>
        <label>URLs (one a line) <textarea name="urls" rows="3">${s.urls.join('\n')}</textarea></label>
        <label>Time zone <input name="timezone" value=${s.timezone} /></label>
        <label>Currency <input name="currency" value=${s.currency} size="4" /></label>
        <label>Excluded URL parameters (comma-separated) <input name="excludedParameters"
          value=${s.excluded_parameters} /></label>
        <label class="check"><input type="checkbox" name="honourDnt" checked=${s.honour_dnt} />
          Honour Do Not Track and Global Privacy Control</label>
        <label>IPv4 bytes masked <select name="ipv4MaskBytes" value=${String(s.ipv4_mask_bytes)}>
          ${[1, 2, 3, 4].map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
        <label>IPv6 bits masked <input name="ipv6MaskBits" type="number" min="64" max="128"
          value=${s.ipv6_mask_bits} /></label>
      <//>`}<//>
    <//>
    ${session.superuser && html`<${Section} title="Add a site">
      <${ApiForm} method="SitesManager.addSite" label="Add site"
          onDone=${(answer) => alert(`Site ${answer.value} added; reload to see it in the site picker.`)}>
        <label>Name <input name="siteName" required /></label>
        <label>URL <input name="urls" type="url" required placeholder="https://example.org" /></label>
        <label>Time zone <input name="timezone" value="UTC" /></label>
        <label>Currency <input name="currency" value="USD" size="4" /></label>
      <//>
    <//>`}`;
}

// A list from `method` with a delete button per item.
function ManagedList({ result, columns, remove }) {
  const [problem, setProblem] = useState(null);
  return html`<${Async} result=${result} empty=${(rows) => !rows.length}>${(rows) => html`
    <div class="table-scroll"><table>
      <thead><tr>${columns.map(([, title]) => html`<th scope="col">${title}</th>`)}<th></th></tr></thead>
      <tbody>${rows.map((row, i) => html`<tr key=${i}>
        ${columns.map(([key]) => html`<td>${row[key] !== null && typeof row[key] === 'object' ? JSON.stringify(row[key]) : String(row[key] ?? '')}</td>`)}
        <td><button type="button" class="link" onClick=${() => remove(row).then(result.reload, setProblem)}>delete</button></td>
      </tr>`)}</tbody>
    </table></div>
    ${problem && html`<${ErrorBox} error=${problem} title="Not deleted" />`}`}<//>`;
}

const MATCH_ATTRIBUTES = ['url', 'title', 'event_category', 'event_action', 'event_name', 'file',
  'external_website', 'manually'];
const PATTERN_TYPES = ['contains', 'exact', 'starts_with', 'ends_with', 'regex'];

export function GoalsSettings() {
  const { view } = useViewContext();
  const goals = useApi('Goals.getGoals', { idSite: view.site });
  return html`
    <${Section} title="Goals">
      <${ManagedList} result=${goals} columns=${[['idgoal', 'Id'], ['name', 'Name'], ['match_attribute', 'Matches'],
        ['pattern_type', 'How'], ['pattern', 'Pattern'], ['revenue', 'Revenue']]}
        remove=${(g) => api('Goals.deleteGoal', { idSite: view.site, idGoal: g.idgoal })} />
    <//>
    <${Section} title="Add a goal">
      <${ApiForm} method="Goals.addGoal" fields=${{ idSite: view.site }} label="Add goal"
          onDone=${(_, form) => { form.reset(); goals.reload(); }}>
        <label>Name <input name="name" required /></label>
        <label>Matches <select name="matchAttribute">${MATCH_ATTRIBUTES.map((m) => html`<option>${m}</option>`)}</select></label>
        <label>How <select name="patternType">${PATTERN_TYPES.map((m) => html`<option>${m}</option>`)}</select></label>
        <label>Pattern <input name="pattern" /></label>
        <label>Revenue <input name="revenue" type="number" step="0.01" min="0" value="0" /></label>
        <label class="check"><input type="checkbox" name="allowMultipleConversionsPerVisit" value="1" /> several per visit</label>
      <//>
    <//>`;
}

const STEP_MATCHES = ['path', 'url', 'title', 'event_category', 'event_action', 'event_name', 'site_search', 'goal'];

// "Cart | path | starts_with | /cart | required" per line, as `tally funnel add --step`.
function stepsOf(text) {
  return JSON.stringify(String(text).split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [name, match, patternType, pattern, required] = line.split('|').map((s) => s.trim());
    return { name, match, pattern_type: patternType, pattern, required: required === 'required' };
  }));
}

export function FunnelsSettings() {
  const { view } = useViewContext();
  const funnels = useApi('Funnels.getFunnels', { idSite: view.site });
  return html`
    <${Section} title="Funnels">
      <${ManagedList} result=${funnels} columns=${[['idfunnel', 'Id'], ['name', 'Name'], ['idgoal', 'Goal']]}
        remove=${(f) => api('Funnels.deleteFunnel', { idSite: view.site, idFunnel: f.idfunnel })} />
    <//>
    <${Section} title="Add a funnel">
      <${ApiForm} method="Funnels.addFunnel" fields=${{ idSite: view.site }} label="Add funnel"
          extra=${(form) => ({ steps: stepsOf(form.get('steps')) })}
          onDone=${(_, form) => { form.reset(); funnels.reload(); }}>
        <label>Name <input name="name" required /></label>
        <label>Goal id (optional) <input name="idGoal" type="number" min="0" /></label>
        <label>Steps, one a line: name | match | pattern type | pattern | required
          <textarea name="steps" rows="4" required placeholder="Cart | path | starts_with | /cart | required"></textarea></label>
        <p class="muted">match: ${STEP_MATCHES.join(', ')}; pattern type: ${PATTERN_TYPES.join(', ')}.</p>
      <//>
    <//>`;
}

export function UsersSettings() {
  const { view, session } = useViewContext();
  const users = useApi(session.superuser ? 'UsersManager.getUsers' : null, {});
  const tokens = useApi('UsersManager.getTokens', { userLogin: session.login });
  const [token, setToken] = useState(null);
  return html`
    ${session.superuser && html`
      <${Section} title="Users">
        <${ManagedList} result=${users} columns=${[['login', 'Login'], ['superuser_access', 'Superuser'], ['access', 'Access']]}
          remove=${(u) => (confirm(`Delete user ${u.login}?`) ? api('UsersManager.deleteUser', { userLogin: u.login }) : Promise.resolve())} />
      <//>
      <${Section} title="Add a user">
        <${ApiForm} method="UsersManager.addUser" label="Add user" onDone=${(_, form) => { form.reset(); users.reload(); }}>
          <label>Login <input name="userLogin" required autocomplete="off" /></label>
          <label>Password <input name="password" type="password" required minlength="8" autocomplete="new-password" /></label>
          <label class="check"><input type="checkbox" name="superuser" value="1" /> superuser</label>
        <//>
      <//>
      <${Section} title="Access to this site">
        <${ApiForm} method="UsersManager.setUserAccess" fields=${{ idSites: view.site }} label="Set access"
            onDone=${() => users.reload()}>
          <label>Login <input name="userLogin" required /></label>
          <label>Access <select name="access">${['view', 'write', 'admin', 'noaccess'].map((a) => html`<option>${a}</option>`)}</select></label>
        <//>
      <//>`}
    <${Section} title="Your API tokens">
      <p class="muted">Times are UTC; an empty expiry is never. Last used counts since the server started.</p>
      <${ManagedList} result=${tokens} columns=${[['idusertokenauth', 'Id'], ['description', 'Description'],
        ['date_created', 'Created'], ['date_expired', 'Expires'], ['last_used', 'Last used']]}
        remove=${(t) => (confirm(`Delete token ${t.idusertokenauth}? Whatever uses it stops working.`)
          ? api('UsersManager.deleteToken', { userLogin: session.login, idTokenAuth: t.idusertokenauth }) : Promise.resolve())} />
      <${ApiForm} method="UsersManager.createAppSpecificTokenAuth" fields=${{ userLogin: session.login }}
          label="Create token" onDone=${(answer, form) => { setToken(answer.value); form.reset(); tokens.reload(); }}>
        <label>Description <input name="description" required maxlength="100" /></label>
        <label>Expires after (hours; empty: never) <input name="expireHours" type="number" min="1" max="87600" /></label>
        <label>Your password <input name="passwordConfirmation" type="password" required autocomplete="current-password" /></label>
      <//>
      ${token && html`<p role="status">New token (shown once): <code class="token">${token}</code></p>`}
    <//>`;
}

export function TrackingCode() {
  const { view } = useViewContext();
  const tag = useApi('SitesManager.getJavascriptTag', { idSite: view.site });
  const [copied, setCopied] = useState('');
  return html`<${Section} title="Tracking code">
    <p>Paste this into every page of the site, just before <code>${'</head>'}</code>.</p>
    <${Async} result=${tag}>${(answer) => html`
      <pre class="code">${answer.value}</pre>
      <button type="button" onClick=${() => navigator.clipboard.writeText(answer.value)
        .then(() => setCopied('Copied.'), () => setCopied('Select the code and copy it.'))}>Copy</button>
      <span role="status">${copied}</span>`}<//>
  <//>`;
}
