// What every page shares: the JSON API client (with the CSRF token on
// writes), a small DOM builder that never parses HTML, formatting in the
// viewer's own time zone, sign-out, and the live event stream.

const csrfMeta = document.querySelector('meta[name="csrf-token"]');
export const csrf = csrfMeta ? csrfMeta.content : '';
export const me = { id: Number(document.body.dataset.userId), role: document.body.dataset.role || '' };
export const seesAll = me.role === 'admin' || me.role === 'supervisor';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !path.startsWith('/api/auth/login')) {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, 'Your session ended; sign in again.');
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.statusText;
    throw new ApiError(response.status, message);
  }
  return data;
}

// el('a', {href: '/x', class: 'y'}, 'text', child): text is always text.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatShort(iso) {
  return iso ? shortTime.format(new Date(iso)) : '—';
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

const DIRECTIONS = { inbound: 'Inbound', 'outbound-api': 'Outbound', 'outbound-dial': 'Outbound (dialed)' };
export function directionLabel(direction) {
  return direction ? DIRECTIONS[direction] || direction : '—';
}

export function outcomeLabel(call) {
  const value = call.outcome || call.status;
  if (!value) return '—';
  return value.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

// One line about where a recording is: Twilio's side first (absent,
// failed), then ours (archiving, archived, failed and why, deleted).
export function recordingState(recording) {
  if (!recording) return { label: 'No recording', tone: 'none' };
  if (recording.status !== 'completed' && recording.status !== 'in-progress') {
    const code = recording.errorCode ? ` (error ${recording.errorCode})` : '';
    return { label: `Not recorded at Twilio: ${recording.status}${code}`, tone: 'bad' };
  }
  switch (recording.syncStatus) {
    case 'verified':
      return { label: 'Archived', tone: 'good' };
    case 'transcribed':
      return { label: 'Archived, transcribed', tone: 'good' };
    case 'stored':
      return { label: 'Verifying…', tone: 'busy' };
    case 'pending':
      return recording.status === 'in-progress'
        ? { label: 'Recording…', tone: 'busy' }
        : { label: recording.error ? 'Retrying archive' : 'Archiving…', tone: 'busy' };
    case 'failed':
      return { label: 'Sync failed', tone: 'bad' };
    case 'deleted':
      return { label: 'Deleted by retention', tone: 'none' };
    default:
      return { label: recording.syncStatus, tone: 'none' };
  }
}

export function playable(recording) {
  return !!recording && recording.status === 'completed' && recording.syncStatus !== 'deleted' && recording.syncStatus !== 'failed';
}

export function toast(message) {
  const node = document.getElementById('toast');
  if (!node) return;
  node.textContent = message;
  node.classList.add('shown');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.remove('shown'), 4000);
}

export function setUpSignOut() {
  const button = document.getElementById('logout');
  if (!button) return;
  button.addEventListener('click', async () => {
    try {
      await api('/api/auth/logout', { method: 'POST' });
    } finally {
      location.assign('/login');
    }
  });
}

// Calls `onEvent(kind, data)` for each live event; `onState(text, ok)` as
// the connection comes and goes. EventSource reconnects by itself.
export function liveEvents(onEvent, onState) {
  const source = new EventSource('/api/events');
  const kinds = ['call.created', 'call.updated', 'recording.updated', 'transcript.ready', 'resync'];
  for (const kind of kinds) {
    source.addEventListener(kind, (message) => {
      let data = null;
      try {
        data = JSON.parse(message.data);
      } catch {
        data = null;
      }
      onEvent(kind, data);
    });
  }
  source.addEventListener('open', () => onState('Live', true));
  source.addEventListener('error', () => onState('Reconnecting…', false));
  return source;
}
