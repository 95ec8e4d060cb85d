// Every call the dashboard makes to its server: the Reporting API with the
// session cookie and the header that proves the request came from this page
// (docs/dashboard.md, "Sessions"). A 401 means the session is gone: the shell
// listens for it and shows the login form again.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const sessionListeners = new Set();
export function onSessionLost(listener) {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

// The form body of an API call: empty values are left out, arrays repeat
// their name (urls[]=a&urls[]=b).
function formOf(method, params) {
  const form = new URLSearchParams({ module: 'API', method, format: 'json' });
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value) form.append(name, String(v));
    else form.set(name, String(value));
  }
  return form;
}

async function errorOf(res) {
  const text = await res.text();
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = JSON.parse(text);
    if (body && body.message) message = body.message;
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(message, res.status);
}

async function post(method, params, signal) {
  let res;
  try {
    res = await fetch('/index.php', {
      method: 'POST',
      body: formOf(method, params),
      headers: { 'X-Tally-Requested': '1' },
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`The server did not answer (${err.message}); is Tally running?`, 0);
  }
  if (res.status === 401) {
    const err = await errorOf(res);
    for (const listener of sessionListeners) listener(err);
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

// The JSON answer of `method`; throws ApiError with the server's message.
export async function api(method, params = {}, { signal } = {}) {
  const res = await post(method, params, signal);
  const body = await res.json();
  if (body && body.result === 'error') throw new ApiError(body.message, res.status);
  return body;
}

// The CSV answer of the same call, saved as a file by the browser. A link
// cannot carry the X-Tally-Requested header, so the file is fetched here and
// handed over as a blob.
export async function downloadCsv(method, params, filename) {
  const res = await post(method, { ...params, format: 'csv' });
  const blob = new Blob([await res.text()], { type: 'text/csv' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function sessionCall(path, init) {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 204) return null;
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

// The logged-in user ({login, superuser}), or null when nobody is.
export async function currentSession() {
  const res = await fetch('/session', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

export function login(name, password) {
  return sessionCall('/login', {
    method: 'POST',
    body: new URLSearchParams({ login: name, password }),
  });
}

export function logout() {
  return sessionCall('/logout', { method: 'POST' });
}
