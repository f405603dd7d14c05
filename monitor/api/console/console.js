/* chainwatch review console: the hold queue and one case, on the API
 * (GET /v1/cases, GET /v1/cases/{id}, POST /v1/cases/{id}/release|block|note,
 * GET /v1/cases/{id}/graph.svg and report.html). No framework. The API key
 * stays in this tab's sessionStorage and goes in the X-API-Key header.
 * Every value from the API is put in the page as text (textContent), never
 * as markup; the one exception is the trace graph, an SVG the server draws
 * with every text escaped. */
'use strict';

const KEY = 'chainwatch-api-key';

function apiKey() { return sessionStorage.getItem(KEY) || ''; }

function showError(msg) {
  const e = document.getElementById('error');
  e.textContent = msg;
  e.hidden = !msg;
}

async function api(path, opts) {
  const o = Object.assign({ headers: {} }, opts || {});
  o.headers['X-API-Key'] = apiKey();
  const r = await fetch(path, o);
  const type = r.headers.get('Content-Type') || '';
  if (!r.ok) {
    let msg = r.status + ' ' + r.statusText;
    if (type.startsWith('application/json')) {
      const j = await r.json();
      if (j.error) msg = r.status + ' ' + j.error.code + ': ' + j.error.message;
    }
    const err = new Error(msg);
    err.status = r.status;
    throw err;
  }
  return type.startsWith('application/json') ? r.json() : r.text();
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

/* A record's amount in its asset, exactly as monitor/records/amount.h
 * writes it: base units (Bitcoin: an integer of satoshis; account chains:
 * a decimal string, up to 78 digits) moved across the point as text,
 * never through floating point, every decimal kept; the asset's symbol,
 * else its contract; USD when the record has amount_usd_cents. */
function units(digits, decimals) {
  if (!/^[0-9]{1,78}$/.test(digits) || !Number.isInteger(decimals) || decimals < 0 || decimals > 77) return null;
  if (decimals === 0) return digits;
  const s = digits.padStart(decimals + 1, '0');
  return s.slice(0, s.length - decimals) + '.' + s.slice(s.length - decimals);
}

function assetName(asset) {
  if (typeof asset === 'string') return asset;
  if (asset && typeof asset === 'object') {
    if (asset.symbol) return asset.symbol;
    if (asset.contract) return asset.contract;
    if (Number.isInteger(asset.id)) return 'TRC-10 token ' + asset.id;
  }
  return '(unknown asset)';
}

function amountText(rec) {
  const amt = rec.amount, asset = rec.asset;
  const name = assetName(asset);
  const digits = Number.isSafeInteger(amt) && amt >= 0 ? String(amt) : typeof amt === 'string' ? amt : null;
  const decimals = asset === 'BTC' ? 8 : asset && typeof asset === 'object' ? asset.decimals : null;
  let t;
  if (rec.amount_known === false || digits === null || !/^[0-9]{1,78}$/.test(digits)) t = 'an unknown amount of ' + name;
  else if (units(digits, decimals) === null) t = digits + ' base units of ' + name;
  else t = units(digits, decimals) + ' ' + name;
  const c = rec.amount_usd_cents;
  if (Number.isSafeInteger(c) && c >= 0) t += ' (USD ' + Math.floor(c / 100) + '.' + String(c % 100).padStart(2, '0') + ')';
  return t;
}

function party(entity) {
  if (!entity) return '';
  const p = (entity.programs || []).join(', ');
  return (entity.name || entity.uid || '') + (p ? ' (' + p + ')' : '');
}

function setupKeyForm(reload) {
  const form = document.getElementById('key-form');
  const input = document.getElementById('api-key');
  input.value = apiKey();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    reload();
  });
}

/* ---- the queue ---- */

let next = null;

async function loadQueue(append) {
  showError('');
  const status = document.getElementById('status').value;
  const q = new URLSearchParams({ limit: '50' });
  if (status) q.set('status', status);
  if (append && next) q.set('cursor', next);
  const body = document.querySelector('#queue tbody');
  if (!append) body.textContent = '';
  let page;
  try {
    page = await api('/v1/cases?' + q.toString());
  } catch (e) {
    showError(e.status === 401 || e.status === 403 ? 'Enter an API key with the review role: ' + e.message : e.message);
    return;
  }
  for (const c of page.cases) {
    const tr = el('tr', null, 'case-row');
    tr.dataset.id = c.id;
    const link = el('a', c.id);
    link.href = '/console/case.html?id=' + encodeURIComponent(c.id);
    const td = el('td', null, 'mono');
    td.appendChild(link);
    tr.appendChild(td);
    tr.appendChild(el('td', c.state, 'state-' + c.state));
    tr.appendChild(el('td', c.rule));
    tr.appendChild(el('td', c.address, 'mono'));
    tr.appendChild(el('td', amountText(c)));
    tr.appendChild(el('td', party(c.entity)));
    tr.appendChild(el('td', c.opened_at));
    tr.addEventListener('click', () => { location.href = link.href; });
    body.appendChild(tr);
  }
  next = page.next_cursor;
  document.getElementById('more').hidden = !next;
  document.getElementById('count').textContent = body.children.length + ' case(s)' + (next ? ', more' : '');
}

/* ---- one case ---- */

function caseId() { return new URLSearchParams(location.search).get('id') || ''; }

function evidenceRow(dl, name, value, mono) {
  dl.appendChild(el('dt', name));
  dl.appendChild(el('dd', value, mono ? 'mono' : ''));
}

async function loadCase() {
  showError('');
  const id = caseId();
  let c;
  try {
    c = await api('/v1/cases/' + encodeURIComponent(id));
  } catch (e) {
    showError(e.status === 401 || e.status === 403 ? 'Enter an API key with the review role: ' + e.message : e.message);
    return;
  }
  document.getElementById('case-title').textContent = 'Case ' + c.id;
  const st = document.getElementById('state');
  st.textContent = c.state;
  st.className = 'state-' + c.state;
  const ts = document.getElementById('trail-status');
  ts.textContent = c.trail.ok ? 'verified (' + c.entries + ' signed entries)' : 'DOES NOT VERIFY: ' + c.trail.error;
  ts.className = c.trail.ok ? 'ok' : 'error';
  const a = c.alert || {};
  const dl = document.getElementById('evidence');
  dl.textContent = '';
  evidenceRow(dl, 'Rule', a.rule);
  evidenceRow(dl, 'Decision', a.decision + ' (severity ' + a.severity + ')');
  evidenceRow(dl, 'Address', a.address, true);
  evidenceRow(dl, 'Direction', a.direction);
  evidenceRow(dl, 'Amount', amountText(a));
  if (a.asset && typeof a.asset === 'object' && a.asset.contract) evidenceRow(dl, 'Token contract', a.asset.contract, true);
  evidenceRow(dl, 'Designated party', party(a.entity) + (a.entity && a.entity.list ? ' · list ' + a.entity.list : ''));
  evidenceRow(dl, 'Transaction', a.txid, true);
  evidenceRow(dl, 'Block', a.block ? a.block.height + ' ' + a.block.hash : 'mempool', true);
  if (a.hops !== undefined) evidenceRow(dl, 'Hops', a.hops);
  if (a.share_ppm !== undefined) evidenceRow(dl, 'Tainted share', (a.share_ppm / 10000).toFixed(2) + '%');
  if (a.source_address) evidenceRow(dl, 'Designated source', a.source_address, true);
  evidenceRow(dl, 'Evidence (txids)', (a.evidence || []).join('\n'), true);
  evidenceRow(dl, 'Alert id', a.id, true);
  const body = document.querySelector('#audit tbody');
  body.textContent = '';
  for (const e of c.audit) {
    const tr = el('tr', null, 'audit-row');
    tr.dataset.action = e.action;
    tr.appendChild(el('td', e.seq));
    tr.appendChild(el('td', e.time));
    tr.appendChild(el('td', e.actor));
    tr.appendChild(el('td', e.action));
    tr.appendChild(el('td', e.state, 'state-' + e.state));
    const r = el('td', e.reason);
    r.style.whiteSpace = 'pre-wrap';
    tr.appendChild(r);
    body.appendChild(tr);
  }
  for (const b of document.querySelectorAll('#decision-form button')) {
    b.disabled = b.dataset.action !== 'note' && c.state !== 'open';
  }
  document.getElementById('report').hidden = c.state !== 'blocked';
  try {
    const svg = await api('/v1/cases/' + encodeURIComponent(id) + '/graph.svg');
    document.getElementById('graph').innerHTML = svg; /* server-drawn, every text escaped */
  } catch (e) {
    document.getElementById('graph').textContent = 'no graph: ' + e.message;
  }
}

async function decide(action) {
  const reason = document.getElementById('reason').value.trim();
  const actor = document.getElementById('actor').value.trim();
  const out = document.getElementById('decision-result');
  if (!reason) {
    out.textContent = 'A reason is required.';
    out.className = 'error';
    return;
  }
  try {
    const r = await api('/v1/cases/' + encodeURIComponent(caseId()) + '/' + action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(actor ? { reason, actor } : { reason }),
    });
    out.textContent = 'Recorded: ' + r.entry.action + ' by ' + r.entry.actor + ' (entry ' + r.entry.seq + ').';
    out.className = 'ok';
    document.getElementById('reason').value = '';
  } catch (e) {
    out.textContent = e.status === 409 ? 'Refused: ' + e.message : e.message;
    out.className = 'error';
  }
  await loadCase();
}

async function openReport() {
  try {
    const html = await api('/v1/cases/' + encodeURIComponent(caseId()) + '/report.html');
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    window.open(url, '_blank');
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const page = document.body.dataset.page;
  if (page === 'queue') {
    setupKeyForm(() => loadQueue(false));
    document.getElementById('status').addEventListener('change', () => loadQueue(false));
    document.getElementById('more').addEventListener('click', () => loadQueue(true));
    if (apiKey()) loadQueue(false);
  } else if (page === 'case') {
    setupKeyForm(loadCase);
    for (const b of document.querySelectorAll('#decision-form button')) {
      b.addEventListener('click', () => decide(b.dataset.action));
    }
    document.getElementById('open-report').addEventListener('click', openReport);
    if (apiKey()) loadCase();
  }
});
