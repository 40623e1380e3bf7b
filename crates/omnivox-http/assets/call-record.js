// One call: its facts, recordings (with player, sync state, the reason of
// a failure, and for admins a retry), transcript and timeline. Redrawn
// live when an event names this call.

import {
  api, el, me, formatDateTime, formatDuration, directionLabel, outcomeLabel, recordingState, playable,
  setUpSignOut, liveEvents, toast,
} from './common.js';
import { Player } from './player.js';

const article = document.getElementById('call');
const id = Number(article.dataset.callRecordId);
const players = new Map(); // recording id -> Player, kept across redraws

const SOURCES = {
  'call-status': 'Call status callback',
  'recording-status': 'Recording status callback',
  'calls-api': 'Fetched from the Calls API',
  import: 'Historical import',
  sweep: 'Reconciliation sweep',
};

function fact(term, ...value) {
  const shown = value.filter((v) => v !== null && v !== undefined && v !== '');
  return [el('dt', {}, term), el('dd', {}, shown.length ? shown : '—')];
}

function bytes(n) {
  if (n === null || n === undefined) return null;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function renderFacts(call) {
  const who = call.contactName || call.contactPhone || call.callId;
  document.getElementById('call-title').textContent = `Call with ${who}`;
  document.title = `Call with ${who} · Omnivox`;
  document.getElementById('facts').replaceChildren(
    ...fact('Started', formatDateTime(call.startedAt)),
    ...fact('Ended', call.endedAt ? formatDateTime(call.endedAt) : null),
    ...fact('Duration', call.durationSeconds !== null ? formatDuration(call.durationSeconds) : null),
    ...fact('Outcome', outcomeLabel(call)),
    ...fact('Answered by', call.answeredBy),
    ...fact('Direction', directionLabel(call.direction)),
    ...fact('Contact', call.contactName, call.contactName && call.contactPhone ? ' · ' : null, call.contactPhone),
    ...fact('From', call.from),
    ...fact('To', call.to),
    ...fact('Agent', call.agentName || (call.agentId ? `#${call.agentId}` : null)),
    ...fact('Campaign', call.campaignName === call.campaignId ? call.campaignName : `${call.campaignName} (${call.campaignId})`),
    ...fact('Call SID', el('code', {}, call.callId)),
    ...fact('Legal hold', call.legalHold ? 'Yes: media kept past retention' : 'No'),
    ...fact('First seen', formatDateTime(call.createdAt)),
    ...fact('Last update', formatDateTime(call.updatedAt)),
  );
}

async function retry(recording, button) {
  button.disabled = true;
  try {
    await api(`/api/recordings/${recording.id}/retry`, { method: 'POST' });
    toast('Archiving again; the state below follows it.');
    await load();
  } catch (e) {
    toast(e.message);
    button.disabled = false;
  }
}

function renderRecording(call, recording, index) {
  const state = recordingState(recording);
  const label = call.recordings.length > 1 ? `recording ${index + 1}` : 'the recording';
  let player = players.get(recording.id);
  if (playable(recording)) {
    if (!player) {
      player = new Player(recording, { label });
      players.set(recording.id, player);
    }
  } else if (player) {
    player.destroy();
    players.delete(recording.id);
    player = null;
  }
  const failed = recording.syncStatus === 'failed';
  return el('section', { class: 'recording', 'aria-label': `Recording ${recording.recordingSid}`, dataset: { recordingId: recording.id } },
    el('div', { class: 'recording-head' },
      el('h3', {}, el('code', {}, recording.recordingSid)),
      el('span', { class: `state ${state.tone}` }, state.label),
      failed && me.role === 'admin'
        ? el('button', { type: 'button', class: 'retry', onclick: (e) => retry(recording, e.currentTarget) }, 'Retry sync')
        : null),
    recording.error ? el('p', { class: failed ? 'error' : 'muted' }, failed ? 'Why it failed: ' : 'Last attempt: ', recording.error) : null,
    player ? player.node : null,
    el('dl', { class: 'facts small' },
      ...fact('At Twilio', recording.status, recording.errorCode ? ` (error ${recording.errorCode})` : null),
      ...fact('In Omnivox', recording.syncStatus),
      ...fact('Length', recording.durationSeconds !== null ? formatDuration(recording.durationSeconds) : null),
      ...fact('Channels', recording.channels, recording.track ? ` · ${recording.track}` : null),
      ...fact('Archived', recording.storedAt ? formatDateTime(recording.storedAt) : null, recording.sizeBytes ? ` · ${bytes(recording.sizeBytes)}` : null),
      ...fact('SHA-256', recording.sha256 ? el('code', { class: 'hash' }, recording.sha256) : null),
      ...fact('Found by', recording.foundBy)));
}

function renderRecordings(call) {
  const box = document.getElementById('recordings');
  if (!call.recordings.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No recording for this call.'));
    return;
  }
  box.replaceChildren(...call.recordings.map((r, i) => renderRecording(call, r, i)));
}

function renderTranscript(call) {
  const text = call.transcript && (call.transcript.text || call.transcript);
  if (typeof text === 'string' && text.trim()) {
    document.getElementById('transcript').replaceChildren(el('p', { class: 'transcript' }, text));
  }
}

function renderTimeline(call) {
  const list = document.getElementById('timeline');
  if (!call.events || !call.events.length) {
    list.replaceChildren(el('li', { class: 'muted' }, 'Nothing received yet.'));
    return;
  }
  list.replaceChildren(...call.events.map((e) => el('li', {},
    el('time', { datetime: e.occurredAt || e.receivedAt }, formatDateTime(e.occurredAt || e.receivedAt)),
    ' ', el('strong', {}, e.status || '—'), ' · ', SOURCES[e.source] || e.source,
    e.sequenceNumber !== null && e.sequenceNumber !== undefined ? ` · #${e.sequenceNumber}` : '')));
}

async function load() {
  try {
    const call = await api(`/api/call-records/${id}`);
    renderFacts(call);
    renderRecordings(call);
    renderTranscript(call);
    renderTimeline(call);
    document.getElementById('call-error').hidden = true;
  } catch (e) {
    const error = document.getElementById('call-error');
    error.textContent = e.status === 404 ? 'This call is not there (any more), or it is not one of yours.' : e.message;
    error.hidden = false;
  } finally {
    article.setAttribute('aria-busy', 'false');
  }
}

let timer = null;
setUpSignOut();
liveEvents((kind, data) => {
  if (kind === 'resync' || (data && data.callRecordId === id)) {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  }
}, () => {});
load();
