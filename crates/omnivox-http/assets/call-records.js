// The Call Records list: filters kept in the URL, keyset pages ("Load
// older calls"), a player for any row, and live updates from /api/events
// (new rows slide in highlighted; changed rows are redrawn in place).

import {
  api, el, seesAll, timeZone, formatShort, formatDateTime, formatDuration, directionLabel, outcomeLabel,
  recordingState, playable, setUpSignOut, liveEvents, toast,
} from './common.js';
import { Player } from './player.js';

const FILTERS = ['q', 'campaignId', 'agentId', 'status', 'direction', 'from', 'to', 'hasRecording'];
const PAGE_SIZE = 50;

const form = document.getElementById('filters');
const tbody = document.querySelector('#calls tbody');
const moreButton = document.getElementById('more');
const empty = document.getElementById('empty');
const listError = document.getElementById('list-error');
const live = document.getElementById('live');
const nowPlaying = document.getElementById('now-playing');

let nextCursor = null;
let generation = 0; // a newer load makes an older one's answer moot
let player = null;

// --- filters <-> URL -------------------------------------------------------

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of FILTERS) {
    const value = (params.get(name) || '').trim();
    if (value) filters[name] = value;
  }
  return filters;
}

function fillForm(filters) {
  form.elements.search.value = filters.q || '';
  for (const name of FILTERS.slice(1)) {
    const field = form.elements[name];
    if (!field) continue;
    field.value = filters[name] || '';
    // A value the options do not list yet (campaigns still loading) is kept.
    if (field.tagName === 'SELECT' && filters[name] && field.value !== filters[name]) {
      field.append(el('option', { value: filters[name] }, filters[name]));
      field.value = filters[name];
    }
  }
}

function filtersFromForm() {
  const filters = {};
  const search = form.elements.search.value.trim();
  if (search) filters.q = search;
  for (const name of FILTERS.slice(1)) {
    const field = form.elements[name];
    if (field && field.value) filters[name] = field.value;
  }
  return filters;
}

// Dates in the URL are the viewer's calendar days; the API gets instants.
function localDay(value, endOfDay) {
  const [y, m, d] = value.split('-').map(Number);
  if (!y || !m || !d) return value;
  const start = new Date(y, m - 1, endOfDay ? d + 1 : d);
  return new Date(start.getTime() - (endOfDay ? 1 : 0)).toISOString();
}

function apiQuery(filters, cursor) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    params.set(name, name === 'from' ? localDay(value, false) : name === 'to' ? localDay(value, true) : value);
  }
  params.set('limit', String(PAGE_SIZE));
  if (cursor) params.set('cursor', cursor);
  return `/api/call-records?${params}`;
}

function applyFilters() {
  const filters = filtersFromForm();
  const query = new URLSearchParams(filters).toString();
  const url = query ? `/call-records?${query}` : '/call-records';
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
  load();
}

// --- rows --------------------------------------------------------------------

// Changes when the call or any of its recordings does.
function version(call) {
  return [call.updatedAt, ...call.recordings.map((r) => `${r.id}:${r.updatedAt}`)].join('|');
}

function sortKey(call) {
  return Date.parse(call.startedAt || call.createdAt) || 0;
}

function contactCell(call) {
  const number = call.contactPhone || (call.direction === 'inbound' ? call.from : call.to) || '';
  return [call.contactName ? el('span', { class: 'name' }, call.contactName) : null, el('span', { class: 'phone' }, number || '—')];
}

function row(call) {
  const recording = call.recordings[call.recordings.length - 1];
  const state = recordingState(recording);
  const who = call.contactName || call.contactPhone || call.callId;
  const cells = [
    el('td', { 'data-label': 'Time' }, el('a', { href: `/call-records/${call.id}`, class: 'open' },
      el('time', { datetime: call.startedAt || call.createdAt, title: formatDateTime(call.startedAt || call.createdAt) },
        formatShort(call.startedAt || call.createdAt)))),
    el('td', { 'data-label': 'Agent' }, call.agentName || (call.agentId ? `#${call.agentId}` : '—')),
    el('td', { 'data-label': 'Contact', class: 'contact' }, contactCell(call)),
    el('td', { 'data-label': 'Campaign' }, el('span', { title: call.campaignId }, call.campaignName)),
    el('td', { 'data-label': 'Direction' }, directionLabel(call.direction)),
    el('td', { 'data-label': 'Outcome' }, el('span', { class: `outcome ${call.status || ''}` }, outcomeLabel(call))),
    el('td', { 'data-label': 'Duration', class: 'num' }, formatDuration(call.durationSeconds)),
    el('td', { 'data-label': 'Recording', class: 'rec' },
      playable(recording)
        ? el('button', { type: 'button', class: 'play-row', 'aria-label': `Play recording of the call with ${who}`,
            onclick: () => openPlayer(call, recording) }, '▶')
        : null,
      el('span', { class: `state ${state.tone}`, title: recording && recording.error ? recording.error : undefined }, state.label)),
  ];
  return el('tr', { dataset: { id: call.id, version: version(call), sort: sortKey(call) } }, cells);
}

function rowsById() {
  const map = new Map();
  for (const tr of tbody.rows) map.set(Number(tr.dataset.id), tr);
  return map;
}

function flash(tr, kind) {
  tr.classList.add(kind);
  setTimeout(() => tr.classList.remove(kind), 4000);
}

function showEmpty() {
  empty.hidden = tbody.rows.length > 0;
}

// --- loading -----------------------------------------------------------------

async function load() {
  const mine = ++generation;
  const filters = filtersFromUrl();
  fillForm(filters);
  listError.hidden = true;
  tbody.closest('table').setAttribute('aria-busy', 'true');
  try {
    const page = await api(apiQuery(filters));
    if (mine !== generation) return;
    tbody.replaceChildren(...page.items.map(row));
    nextCursor = page.nextCursor;
    moreButton.hidden = !nextCursor;
  } catch (e) {
    if (mine !== generation) return;
    tbody.replaceChildren();
    moreButton.hidden = true;
    listError.textContent = e.message;
    listError.hidden = false;
  } finally {
    if (mine === generation) tbody.closest('table').setAttribute('aria-busy', 'false');
    showEmpty();
  }
}

async function loadMore() {
  if (!nextCursor) return;
  const mine = generation;
  moreButton.disabled = true;
  try {
    const page = await api(apiQuery(filtersFromUrl(), nextCursor));
    if (mine !== generation) return;
    const have = rowsById();
    const added = page.items.filter((c) => !have.has(c.id)).map(row);
    tbody.append(...added);
    nextCursor = page.nextCursor;
    moreButton.hidden = !nextCursor;
    if (added[0]) added[0].querySelector('a.open').focus();
  } catch (e) {
    toast(e.message);
  } finally {
    moreButton.disabled = false;
  }
}

// The first page again, merged into what is shown: changed rows redrawn,
// new ones put in their place and highlighted.
async function refresh() {
  const mine = generation;
  let page;
  try {
    page = await api(apiQuery(filtersFromUrl()));
  } catch {
    return; // the next event or a reload will try again
  }
  if (mine !== generation) return;
  const have = rowsById();
  let added = 0;
  for (const call of page.items) {
    const existing = have.get(call.id);
    if (existing) {
      if (existing.dataset.version !== version(call)) {
        const fresh = row(call);
        existing.replaceWith(fresh);
        flash(fresh, 'changed');
      }
      continue;
    }
    const fresh = row(call);
    const key = sortKey(call);
    const before = [...tbody.rows].find((tr) => Number(tr.dataset.sort) < key
      || (Number(tr.dataset.sort) === key && Number(tr.dataset.id) < call.id));
    if (before) tbody.insertBefore(fresh, before);
    else if (!nextCursor) tbody.append(fresh);
    else continue; // older than everything shown: it will come with "Load older calls"
    flash(fresh, 'fresh');
    added++;
  }
  if (added) toast(added === 1 ? '1 new call' : `${added} new calls`);
  showEmpty();
  // Rows further down that an event named: redrawn one by one.
  const inPage = new Set(page.items.map((c) => c.id));
  const named = [...touched].filter((id) => !inPage.has(id) && have.has(id));
  touched.clear();
  for (const id of named) {
    try {
      const call = await api(`/api/call-records/${id}`);
      const shown = rowsById().get(id);
      if (shown && mine === generation) shown.replaceWith(row(call));
    } catch {
      // gone or no longer visible: leave the row as it was
    }
  }
}

const touched = new Set();
let refreshTimer = null;
function scheduleRefresh(data) {
  if (data && data.callRecordId) touched.add(data.callRecordId);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 250);
}

// --- player ------------------------------------------------------------------

function openPlayer(call, recording) {
  if (player) player.destroy();
  const who = call.contactName || call.contactPhone || call.callId;
  player = new Player(recording, { label: `the call with ${who}`, autoplay: true });
  nowPlaying.replaceChildren(
    el('div', { class: 'now-title' }, el('strong', {}, who), ' · ', formatShort(call.startedAt || call.createdAt), ' · ',
      el('a', { href: `/call-records/${call.id}` }, 'Open call')),
    player.node,
    el('button', { type: 'button', class: 'close link', 'aria-label': 'Close the player', onclick: closePlayer }, '✕'),
  );
  nowPlaying.hidden = false;
  player.playButton.focus();
}

function closePlayer() {
  if (player) player.destroy();
  player = null;
  nowPlaying.hidden = true;
}

// --- start -------------------------------------------------------------------

async function loadChoices() {
  const campaigns = await api('/api/campaigns').catch(() => ({ items: [] }));
  const select = form.elements.campaignId;
  const chosen = filtersFromUrl().campaignId || '';
  select.replaceChildren(el('option', { value: '' }, 'All campaigns'),
    ...campaigns.items.map((c) => el('option', { value: c.id }, c.name)));
  select.value = chosen;
  if (!seesAll) {
    document.getElementById('agent-field').hidden = true;
    return;
  }
  const users = await api('/api/users').catch(() => ({ items: [] }));
  const agents = form.elements.agentId;
  const agent = filtersFromUrl().agentId || '';
  agents.replaceChildren(el('option', { value: '' }, 'All agents'),
    ...users.items.map((u) => el('option', { value: u.id }, u.displayName || u.username)));
  agents.value = agent;
}

function start() {
  setUpSignOut();
  document.getElementById('time-head').textContent = `Time (${timeZone})`;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters();
  });
  form.addEventListener('change', (e) => {
    if (e.target.name !== 'search') applyFilters();
  });
  let typing = null;
  form.elements.search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(applyFilters, 400);
  });
  document.getElementById('clear-filters').addEventListener('click', (e) => {
    e.preventDefault();
    form.reset();
    applyFilters();
  });
  moreButton.addEventListener('click', loadMore);
  const toggle = document.getElementById('toggle-filters');
  toggle.addEventListener('click', () => {
    const open = form.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  // On a phone the filters fold away, unless some are set.
  if (FILTERS.slice(1).some((name) => filtersFromUrl()[name])) toggle.click();
  window.addEventListener('popstate', load);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && player) closePlayer();
    if (e.key === '/' && document.activeElement === document.body) {
      e.preventDefault();
      form.elements.search.focus();
    }
  });
  liveEvents((kind, data) => {
    if (kind === 'resync') load();
    else scheduleRefresh(data);
  }, (text, ok) => {
    live.querySelector('.live-text').textContent = text;
    live.classList.toggle('ok', ok);
    if (ok) scheduleRefresh();
  });
  loadChoices();
  load();
}

start();
