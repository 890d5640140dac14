// imgmatch review console. Plain JavaScript, no framework, no build step. Data is only ever put into the page as
// text (textContent), never as HTML. The API it uses is described at /openapi.json.
'use strict';

const MAX_SHOWN = 1000;            // alerts kept in the page; the server holds console.alerts.max
const state = { alerts: [], selected: -1, lastSeq: 0, source: null,
  previews: { enabled: false, sensitiveCollections: [] } };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v; else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, options || {}));
  if (r.status === 401) { location.assign('/'); throw new Error('logged out'); }
  let body = {};
  try { body = await r.json(); } catch (e) { /* an empty or non-JSON body */ }
  if (!r.ok) { const err = new Error(body.error || ('HTTP ' + r.status)); err.status = r.status; throw err; }
  return body;
}

function fmtTime(iso) { return iso ? new Date(iso).toLocaleString() : ''; }
function fmtScore(s) { return typeof s === 'number' ? s.toFixed(3) : ''; }

// ---------------------------------------------------------------- the alert queue

function filterParams() {
  const p = new URLSearchParams();
  for (const name of ['decision', 'collection', 'matched', 'tenant']) {
    const v = $('f-' + name).value.trim();
    if (v) p.set(name, v);
  }
  for (const name of ['since', 'until']) {
    const v = $('f-' + name).value;
    if (v) p.set(name, new Date(v).toISOString());
  }
  return p;
}

async function reload() {
  if (state.source) { state.source.close(); state.source = null; }
  $('queue-error').hidden = true;
  const params = filterParams();
  try {
    const list = new URLSearchParams(params); list.set('limit', '500');
    const body = await api('/v1/alerts?' + list);
    state.alerts = body.alerts;
    state.lastSeq = body.lastSeq;
    if (body.previews) state.previews = body.previews;
    state.selected = -1;
    renderQueue();
    renderDetail();
  } catch (e) {
    $('queue-error').textContent = 'Cannot list alerts: ' + e.message;
    $('queue-error').hidden = false;
    return;
  }
  const stream = new URLSearchParams(params); stream.set('after', String(state.lastSeq));
  const es = new EventSource('/v1/alerts/stream?' + stream);
  state.source = es;
  es.onopen = () => { $('live-status').textContent = 'live: new alerts appear as they are raised'; };
  es.onerror = () => { $('live-status').textContent = 'connection lost; reconnecting…'; };
  es.addEventListener('alert', (ev) => onAlert(JSON.parse(ev.data)));
}

function newerFirst(a, b) { return (b.alertedAtMs - a.alertedAtMs) || (b.seq - a.seq); }

function onAlert(a) {
  if (state.alerts.some((x) => x.seq === a.seq)) return;
  const current = state.alerts[state.selected];
  state.alerts.push(a);
  state.alerts.sort(newerFirst);
  if (state.alerts.length > MAX_SHOWN) state.alerts.length = MAX_SHOWN;
  state.selected = current ? state.alerts.indexOf(current) : -1;
  state.lastSeq = Math.max(state.lastSeq, a.seq);
  renderQueue();
  const best = a.matches[0];
  $('announcer').textContent = 'New alert: ' + a.decision + ', upload ' + a.imageId
      + (best ? ' matches ' + best.imageId : '');
}

function renderQueue() {
  const q = $('queue');
  q.replaceChildren(...state.alerts.map((a, i) => {
    const best = a.matches[0];
    const b = el('button', { type: 'button', 'data-seq': a.seq, 'aria-current': i === state.selected ? 'true' : null },
      el('span', { class: 'badge ' + a.decision }, a.decision), ' ',
      a.reviewed ? el('span', { class: 'reviewed' }, a.reviewed === 'confirm' ? '✓ confirmed ' : '✗ dismissed ') : null,
      el('strong', { class: 'image-id' }, a.imageId),
      best ? [' → ', el('span', { class: 'match-id' }, best.imageId), ' (' + best.collection + ')'] : null,
      el('br'), el('span', { class: 'when' }, fmtScore(a.score) + ' · ' + a.tenant + '/' + a.collection + ' · '
          + fmtTime(a.alertedAt)));
    b.addEventListener('click', () => select(i, true));
    return el('li', {}, b);
  }));
  $('queue-count').textContent = '(' + state.alerts.length + ')';
  $('queue-empty').hidden = state.alerts.length > 0;
}

function select(i, focusDetail) {
  if (i < 0 || i >= state.alerts.length) return;
  state.selected = i;
  renderQueue();
  renderDetail();
  const btn = $('queue').querySelectorAll('button')[i];
  if (btn) { btn.scrollIntoView({ block: 'nearest' }); if (!focusDetail) btn.focus(); }
  if (focusDetail) $('detail').focus();
}

// ---------------------------------------------------------------- the detail pane

function fields(pairs) {
  return el('dl', { class: 'fields' }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v, cls]) => [el('dt', {}, k), el('dd', { class: cls || null }, v)]));
}

function isSensitive(collection) { return state.previews.sensitiveCollections.includes(collection); }

// The image's colour preview (GET /v1/images/{id}/preview), up to its natural size (at most 320 px); blurred and
// greyscale when sensitive, until Reveal is clicked and the server has logged the reveal (POST /v1/audit/reveal).
function previewBox(img) {
  if (img.bank) {
    return el('div', { class: 'preview none', role: 'img', 'aria-label': 'no image: hash-list entry of ' + img.bank },
      'no image (hash-list entry)');
  }
  if (!state.previews.enabled) {
    return el('div', { class: 'preview none', role: 'img', 'aria-label': 'previews are off' },
      'previews are off: compare by hashes, scores and ids');
  }
  const url = '/v1/images/' + encodeURIComponent(img.imageId) + '/preview?tenant=' + encodeURIComponent(img.tenant);
  const pic = el('img', { src: url, alt: 'preview of ' + img.imageId, class: img.sensitive ? 'sensitive' : null,
    decoding: 'async' });
  const box = el('figure', { class: 'preview shown' }, pic);
  let tries = 0; // a live alert may come a moment before its preview reaches the console: ask again a few times
  pic.addEventListener('error', () => {
    if (++tries <= 3) { setTimeout(() => { pic.removeAttribute('src'); pic.src = url; }, 1500); return; }
    box.replaceChildren(document.createTextNode('no preview held (none kept, expired or taken down)'));
    box.classList.add('none');
  });
  if (img.sensitive) {
    const status = el('span', { class: 'muted', role: 'status' }, 'blurred: ' + img.why);
    const reveal = el('button', { type: 'button', class: 'reveal' }, 'Reveal');
    reveal.addEventListener('click', async () => {
      reveal.disabled = true;
      try {
        await api('/v1/audit/reveal', { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ imageId: img.imageId, tenant: img.tenant, collection: img.collection,
            alert: img.alert || '' }) });
        pic.classList.remove('sensitive');
        reveal.remove();
        status.textContent = 'revealed (logged)';
      } catch (e) {
        reveal.disabled = false;
        status.textContent = 'cannot reveal: ' + e.message;
      }
    });
    box.append(el('figcaption', {}, reveal, ' ', status));
  }
  return box;
}

function attributes(attrs) {
  const keys = Object.keys(attrs || {});
  return keys.length ? keys.map((k) => k + '=' + attrs[k]).join(', ') : null;
}

function matchCard(m, rank, alert) {
  return el('div', { class: 'card match' },
    previewBox({ imageId: m.imageId, tenant: m.tenant, collection: m.collection, bank: m.signals && m.signals.bank,
      sensitive: isSensitive(m.collection), why: 'collection ' + m.collection, alert: alert }),
    fields([['rank', String(rank)], ['image', m.imageId, 'image-id'], ['collection', m.collection],
      ['tenant', m.tenant], ['source', m.source], ['decision', m.decision], ['score', fmtScore(m.score)],
      ['attributes', attributes(m.attributes)]]),
    el('ul', { class: 'evidence', 'aria-label': 'evidence' }, m.evidence.map((line) => el('li', {}, line))));
}

function renderDetail() {
  const a = state.alerts[state.selected];
  $('detail-empty').hidden = !!a;
  $('detail-body').hidden = !a;
  if (!a) return;
  $('detail-title').textContent = 'Alert: ' + a.decision + ' on ' + a.imageId;
  $('detail-evidence').replaceChildren(...a.evidence.map((line) => el('li', {}, line)));
  const sensitiveMatch = a.matches.find((m) => isSensitive(m.collection));
  $('upload-card').replaceChildren(el('div', { class: 'card' },
    previewBox({ imageId: a.imageId, tenant: a.tenant, collection: a.collection, alert: a.imageId,
      sensitive: isSensitive(a.collection) || !!sensitiveMatch,
      why: isSensitive(a.collection) ? 'collection ' + a.collection : 'it matches ' + (sensitiveMatch || {}).collection }),
    fields([['image', a.imageId, 'image-id'], ['tenant', a.tenant], ['collection', a.collection],
      ['source', a.source], ['submitted', fmtTime(a.submittedAt)], ['alerted', fmtTime(a.alertedAt)],
      ['latency', a.latencyMs + ' ms'], ['SHA-256', a.sha256], ['PDQ', a.pdq ? a.pdq.hash + ' (quality '
        + a.pdq.quality + ')' : null], ['attributes', attributes(a.attributes)]])));
  $('match-cards').replaceChildren(...a.matches.map((m, i) => matchCard(m, i + 1, a.imageId)));
}

// ---------------------------------------------------------------- search

function searchParams() {
  const p = new URLSearchParams();
  const t = $('s-tenant').value.trim();
  if (t) p.set('tenant', t);
  const k = $('s-k').value.trim();
  if (k) p.set('k', k);
  return p;
}

function showResults(body, intro) {
  $('search-status').textContent = intro + ' ' + body.matches.length + ' result(s) in ' + body.tookMs + ' ms'
      + (body.warning ? ' (warning: ' + body.warning + ')' : '') + '.';
  $('search-results').replaceChildren(...body.matches.map((m, i) => el('li', {}, matchCard(m, i + 1))));
}

async function searchImage(file) {
  if (!file) return;
  $('search-status').textContent = 'Looking up ' + file.name + '…';
  $('search-results').replaceChildren();
  try {
    const body = await api('/v1/lookup?' + searchParams(), { method: 'POST', body: file,
      headers: { 'Content-Type': file.type || 'application/octet-stream' } });
    showResults(body, 'Similar to ' + file.name + ':');
  } catch (e) {
    $('search-status').textContent = 'Lookup failed: ' + e.message;
  }
}

async function searchId(id) {
  $('search-status').textContent = 'Looking up ' + id + '…';
  $('search-results').replaceChildren();
  try {
    const body = await api('/v1/images/' + encodeURIComponent(id) + '?' + searchParams());
    showResults(body, id + ' is indexed for tenant ' + body.tenant + '. Similar images:');
  } catch (e) {
    $('search-status').textContent = e.status === 404 ? e.message : 'Lookup failed: ' + e.message;
  }
}

// ---------------------------------------------------------------- decisions and collections

async function decide(action) {
  const a = state.alerts[state.selected];
  if (!a) return;
  const moderator = $('moderator').value.trim();
  if (!moderator) {
    $('decision-status').textContent = 'Enter your name first (it is recorded with the decision).';
    $('moderator').focus();
    return;
  }
  localStorage.setItem('imgmatch.moderator', moderator);
  const note = $('decision-note').value.trim();
  const addTo = action === 'confirm' ? $('decision-add').value.trim() : '';
  $('decision-status').textContent = (action === 'confirm' ? 'Confirming' : 'Dismissing') + ' ' + a.imageId + '…';
  try {
    const body = await api('/v1/feedback', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant: a.tenant, imageId: a.imageId, action: action, moderator: moderator,
        note: note || null, addToCollection: addTo || null }) });
    a.reviewed = action;
    $('decision-note').value = '';
    $('decision-add').value = '';
    $('decision-status').textContent = (action === 'confirm' ? 'Confirmed' : 'Dismissed (never alerts again)')
        + ': ' + a.imageId + (body.addedTo ? ', added to ' + body.addedTo : '') + ' (' + body.pairs
        + ' pair(s), decision ' + body.decisionId + ')';
    renderQueue();
  } catch (e) {
    $('decision-status').textContent = 'Not recorded: ' + e.message;
  }
}

async function loadCollections() {
  try {
    const body = await api('/v1/collections');
    $('collections').tBodies[0].replaceChildren(...body.collections.map((c) => el('tr', {},
      el('td', {}, c.kind), el('th', { scope: 'row' }, c.name), el('td', {}, c.tenant),
      el('td', {}, c.enabled ? 'yes' : 'no'),
      el('td', {}, (c.matchThreshold ?? 'default') + ' / ' + (c.reviewThreshold ?? 'default')),
      el('td', {}, c.pdqMaxDistance ?? (c.kind === 'bank' ? 'default' : '')),
      el('td', {}, (c.updatedBy || '') + ' ' + fmtTime(c.updatedAt)))));
  } catch (e) {
    $('collection-status').textContent = 'Cannot list collections: ' + e.message;
  }
}

async function saveCollection() {
  const moderator = $('moderator').value.trim();
  if (!moderator) { $('collection-status').textContent = 'Enter your name first.'; $('moderator').focus(); return; }
  const num = (id) => ($(id).value.trim() === '' ? null : Number($(id).value));
  const kind = $('c-kind').value;
  const name = $('c-name').value.trim();
  const body = { kind: kind, tenant: $('c-tenant').value.trim() || null, enabled: $('c-enabled').checked,
    moderator: moderator };
  if (kind === 'collection') { body.matchThreshold = num('c-match'); body.reviewThreshold = num('c-review'); }
  else body.pdqMaxDistance = num('c-distance');
  try {
    await api('/v1/collections/' + encodeURIComponent(name), { method: 'PUT',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    $('collection-status').textContent = 'Saved ' + kind + ' ' + name + ' (' + (body.enabled ? 'enabled' : 'disabled')
        + '); applied within about a second.';
    setTimeout(loadCollections, 1000);
  } catch (e) {
    $('collection-status').textContent = 'Not saved: ' + e.message;
  }
}

// ---------------------------------------------------------------- keyboard and wiring

function typing(target) {
  return target && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  if (ev.key === 'j') { ev.preventDefault(); select(Math.min(state.selected + 1, state.alerts.length - 1), true); }
  else if (ev.key === 'k') { ev.preventDefault(); select(Math.max(state.selected - 1, 0), true); }
  else if (ev.key === '/') { ev.preventDefault(); $('s-id').focus(); }
  else if (ev.key === 'c') { ev.preventDefault(); decide('confirm'); }
  else if (ev.key === 'x') { ev.preventDefault(); decide('dismiss'); }
});

document.addEventListener('DOMContentLoaded', () => {
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); reload(); });
  $('moderator').value = localStorage.getItem('imgmatch.moderator') || '';
  $('confirm').addEventListener('click', () => decide('confirm'));
  $('dismiss').addEventListener('click', () => decide('dismiss'));
  $('collection-form').addEventListener('submit', (ev) => { ev.preventDefault(); saveCollection(); });
  loadCollections();
  $('id-search').addEventListener('submit', (ev) => { ev.preventDefault(); searchId($('s-id').value.trim()); });
  $('s-file').addEventListener('change', () => searchImage($('s-file').files[0]));
  const drop = $('drop');
  drop.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); $('s-file').click(); }
  });
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    searchImage(ev.dataTransfer.files[0]);
  });
  api('/health').then((h) => { $('logout-form').hidden = h.auth !== 'token'; }).catch(() => {});
  reload();
});
