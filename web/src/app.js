// SPDX-License-Identifier: MIT
// The virtkit web console. Everything is an API call (docs/api.md) to the origin that served
// the page: virtkitd's TLS listener, or `virtkit ui` passing them to the daemon. Instances
// come from GET /1.0/instances and are kept current by the event stream (GET /1.0/events,
// NDJSON read as it arrives); graphs from GET .../stats every 2 s; the terminal is xterm.js
// on a WebSocket to .../console (raw bytes) or .../exec (exec frames, docs/api.md).
import { Terminal } from './vendor/xterm.mjs';
import { FitAddon } from './vendor/addon-fit.mjs';
import uPlot from './vendor/uPlot.esm.js';

const $ = (id) => document.getElementById(id);
const state = {
  instances: new Map(), // name -> summary
  stats: new Map(),     // name -> {cpu, mem} for the table
  selected: null,
  seq: 0,
  term: null,
};

// --- the API -------------------------------------------------------------------------------

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) {
    const msg = data && data.error ? data.error.message : `HTTP ${r.status}`;
    throw new Error(msg);
  }
  return data;
}

function toast(msg) {
  const t = $('toast');
  t.textContent = msg;
  t.classList.remove('hidden');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.add('hidden'), 6000);
}

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
};

function bytes(n) {
  if (n === undefined || n === null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}

const active = (s) => ['running', 'paused', 'starting', 'stopping'].includes(s);

// --- host and instances ----------------------------------------------------------------------

async function loadHost() {
  try {
    const h = await api('GET', '/1.0/host');
    const by = h.instances.by_state || {};
    $('host').textContent = [
      `${h.cpu.count} CPUs` + (h.cpu.load ? `, load ${h.cpu.load[0].toFixed(2)}` : ''),
      `${bytes(h.memory.available_bytes)} of ${bytes(h.memory.total_bytes)} free`,
      `${h.instances.total} instances (${by.running || 0} running)`,
      h.kvm && h.kvm.classification ? `KVM: ${h.kvm.classification}` : '',
    ].filter(Boolean).join(' · ');
  } catch (e) {
    $('host').textContent = e.message;
  }
}

async function loadInstances() {
  const data = await api('GET', '/1.0/instances');
  state.instances = new Map(data.instances.map((i) => [i.name, i]));
  render();
}

function actionsFor(i) {
  const s = i.state, b = [];
  const add = (label, fn, enabled = true) => {
    const btn = el('button', { textContent: label, disabled: !enabled });
    btn.dataset.action = label.toLowerCase();
    btn.addEventListener('click', (ev) => { ev.stopPropagation(); fn(); });
    b.push(btn);
  };
  if (s === 'shutoff' || s === 'crashed') add('Start', () => act(i.name, 'start'));
  if (s === 'running') add('Stop', () => act(i.name, 'stop'));
  if (s === 'running') add('Pause', () => act(i.name, 'pause'));
  if (s === 'paused') add('Resume', () => act(i.name, 'resume'));
  if (s === 'running') add('Restart', () => act(i.name, 'restart'));
  add('Console', () => select(i.name, 'console'), s === 'running' || s === 'paused');
  return b;
}

function render() {
  const filter = $('filter').value.trim().toLowerCase();
  const rows = $('rows');
  const list = [...state.instances.values()].filter((i) => !filter || i.name.toLowerCase().includes(filter));
  rows.replaceChildren(...list.map((i) => {
    const st = state.stats.get(i.name);
    const tr = el('tr', {},
      el('td', { className: 'name', textContent: i.name }),
      el('td', { className: 'type', textContent: i.type === 'vm' ? 'VM' : 'container' }),
      el('td', {}, el('span', { className: `pill ${i.state}`, textContent: i.state })),
      el('td', { className: 'num', textContent: st && active(i.state) ? `${st.cpu.toFixed(1)} %` : '' }),
      el('td', { className: 'num', textContent: st && active(i.state) ? bytes(st.mem) : '' }),
      el('td', { className: 'actions' }, ...actionsFor(i)));
    tr.dataset.name = i.name;
    tr.dataset.state = i.state;
    if (i.name === state.selected) tr.classList.add('selected');
    tr.addEventListener('click', () => select(i.name, 'graphs'));
    return tr;
  }));
  $('count').textContent = `${state.instances.size}`;
  $('empty').classList.toggle('hidden', state.instances.size > 0);
  if (state.selected) {
    const i = state.instances.get(state.selected);
    if (!i) { closeDetail(); return; }
    const p = $('d-state');
    p.className = `pill ${i.state}`;
    p.textContent = i.state;
    $('tab-shell').disabled = i.type !== 'container' || i.state !== 'running';
    $('tab-console').disabled = !(i.state === 'running' || i.state === 'paused');
  }
  document.body.dataset.ready = '1';
  if (!window.vkReadyAt) window.vkReadyAt = performance.now();
}

async function act(name, action) {
  try {
    await api('POST', `/1.0/instances/${encodeURIComponent(name)}/${action}`);
  } catch (e) {
    toast(`${action} ${name}: ${e.message}`);
  }
  // The event stream brings the new state; a reload makes sure of it.
  await loadInstances().catch(() => {});
}

// --- events ---------------------------------------------------------------------------------

// An image's event (no instance, docs/api.md "Events"): what it did, to which image.
function imageEventText(ev) {
  const fp = (ev.fingerprint || '').slice(0, 12);
  if (ev.event === 'progress')
    return `${ev.operation || ''} ${ev.stage || ''} ${ev.percent ?? ''} %`;
  if (ev.event === 'import-failed') return ev.error || '';
  if (ev.event === 'aliased' || ev.event === 'unaliased') return `${ev.alias || ''} ${fp}`;
  return fp;
}

function addEvent(ev) {
  const list = $('events');
  const time = (ev.time || '').slice(11, 19);
  const what = ev.instance === undefined
    ? [` image`, el('span', { className: 'muted', textContent: ` ${imageEventText(ev)}` })]
    : [` ${ev.instance}`,
      el('span', { className: 'muted', textContent: ` → ${ev.state}${ev.reason ? ' (' + ev.reason + ')' : ''}` })];
  list.prepend(el('li', {},
    el('span', { className: 't', textContent: time }),
    el('span', {}, el('span', { className: 'e', textContent: ev.event }), ...what)));
  while (list.children.length > 200) list.lastChild.remove();
}

async function followEvents() {
  for (;;) {
    try {
      const r = await fetch(`/1.0/events${state.seq ? '?since=' + state.seq : ''}`);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      $('link').classList.add('up');
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line);
          state.seq = Math.max(state.seq, ev.seq);
          addEvent(ev);
          if (ev.instance === undefined) continue; // an image's event
          if (ev.event === 'undefined') state.instances.delete(ev.instance);
          else if (ev.event === 'defined' || !state.instances.has(ev.instance)) loadInstances().catch(() => {});
          else Object.assign(state.instances.get(ev.instance), { state: ev.state, reason: ev.reason });
          render();
        }
      }
    } catch (e) {
      // fall through: retry below
    }
    $('link').classList.remove('up');
    await new Promise((res) => setTimeout(res, 2000));
  }
}

// --- statistics -------------------------------------------------------------------------------

const prev = new Map(); // name -> {cpu_ns, t}

function sample(name, s) {
  const now = performance.now();
  const p = prev.get(name);
  prev.set(name, { cpu: s.cpu_ns, t: now });
  const mem = s.memory_bytes ?? s.rss_bytes ?? 0;
  const cpu = p && s.cpu_ns !== undefined && now > p.t ? Math.max(0, (s.cpu_ns - p.cpu) / ((now - p.t) * 1e4)) : 0;
  state.stats.set(name, { cpu, mem });
  return { cpu, mem };
}

async function pollTable() {
  const running = [...state.instances.values()].filter((i) => i.state === 'running').slice(0, 30);
  for (const i of running) {
    if (i.name === state.selected) continue; // the graphs poll it
    try { sample(i.name, await api('GET', `/1.0/instances/${encodeURIComponent(i.name)}/stats`)); } catch { /* stopped meanwhile */ }
  }
  render();
}

// --- the detail panel: graphs and terminal --------------------------------------------------------

const charts = { cpu: null, mem: null, data: [[], [], []] };

function makeChart(target, label, color, fmt) {
  const width = Math.max(260, target.clientWidth || 300);
  return new uPlot({
    width, height: 160,
    series: [{}, { label, stroke: color, width: 2, fill: color + '22', value: (u, v) => fmt(v) }],
    axes: [{ stroke: '#7d8a99', grid: { stroke: '#1d2530' }, ticks: { stroke: '#253040' } },
      { stroke: '#7d8a99', grid: { stroke: '#1d2530' }, ticks: { stroke: '#253040' }, values: (u, v) => v.map(fmt), size: 60 }],
    scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(hi * 1.2, label === 'CPU' ? 5 : 1)] } },
    legend: { show: false },
    cursor: { show: false },
  }, [[], []], target);
}

function resetCharts() {
  charts.data = [[], [], []];
  $('chart-cpu').replaceChildren();
  $('chart-mem').replaceChildren();
  charts.cpu = makeChart($('chart-cpu'), 'CPU', '#4aa3ff', (v) => `${(v ?? 0).toFixed(0)} %`);
  charts.mem = makeChart($('chart-mem'), 'Memory', '#3fb950', (v) => bytes(v ?? 0));
}

async function pollGraphs() {
  const name = state.selected;
  const i = name && state.instances.get(name);
  if (!i || !active(i.state)) return;
  let s;
  try { s = await api('GET', `/1.0/instances/${encodeURIComponent(name)}/stats`); } catch { return; }
  if (name !== state.selected) return;
  const { cpu, mem } = sample(name, s);
  const d = charts.data;
  d[0].push(Date.now() / 1000); d[1].push(cpu); d[2].push(mem);
  if (d[0].length > 150) d.forEach((a) => a.shift()); // five minutes
  charts.cpu.setData([d[0], d[1]]);
  charts.mem.setData([d[0], d[2]]);
  $('g-cpu').textContent = `${cpu.toFixed(1)} %`;
  $('g-mem').textContent = bytes(mem);
}

function closeTerminal() {
  if (state.term) {
    state.term.ws.close();
    state.term.term.dispose();
    window.removeEventListener('resize', state.term.onResize);
    state.term = null;
  }
  $('terminal').replaceChildren();
}

function tab(which) {
  for (const t of ['graphs', 'console', 'shell']) $(`tab-${t}`).classList.toggle('active', t === which);
  $('graphs').classList.toggle('hidden', which !== 'graphs');
  $('termbox').classList.toggle('hidden', which === 'graphs');
  closeTerminal();
  if (which !== 'graphs') openTerminal(state.selected, which);
}

function select(name, which) {
  if (state.selected !== name) {
    state.selected = name;
    $('detail').classList.remove('hidden');
    $('d-name').textContent = name;
    resetCharts();
    pollGraphs();
  }
  render();
  tab(which);
}

function closeDetail() {
  closeTerminal();
  state.selected = null;
  $('detail').classList.add('hidden');
  render();
}

// Exec frames (docs/api.md): 8-byte header {stream, 0, 0, 0, length (big-endian u32)}.
function execFrame(stream, payload) {
  const f = new Uint8Array(8 + payload.length);
  f[0] = stream;
  new DataView(f.buffer).setUint32(4, payload.length);
  f.set(payload, 8);
  return f;
}

function openTerminal(name, kind) {
  const term = new Terminal({ cursorBlink: true, fontSize: 13,
    theme: { background: '#000000' } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open($('terminal'));
  fit.fit();
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = `${proto}//${location.host}/1.0/instances/${encodeURIComponent(name)}`;
  const url = kind === 'console' ? `${base}/console`
    : `${base}/exec?cmd=/bin/sh&tty=1&rows=${term.rows}&cols=${term.cols}`;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const enc = new TextEncoder();
  let pending = new Uint8Array(0); // exec: a frame not yet complete
  const status = $('term-status');
  status.textContent = `connecting to ${kind === 'console' ? 'the console' : 'a shell'} of ${name}…`;
  ws.onopen = () => {
    status.textContent = kind === 'console' ? `console of ${name} (what you type goes to it)` : `/bin/sh in ${name}`;
    term.focus();
  };
  ws.onclose = () => { status.textContent += ' — closed'; };
  ws.onmessage = (m) => {
    const data = new Uint8Array(m.data);
    if (kind === 'console') { term.write(data); return; }
    const all = new Uint8Array(pending.length + data.length);
    all.set(pending); all.set(data, pending.length);
    let off = 0;
    while (all.length - off >= 8) {
      const len = new DataView(all.buffer, off + 4, 4).getUint32(0);
      if (all.length - off - 8 < len) break;
      const stream = all[off], payload = all.subarray(off + 8, off + 8 + len);
      if (stream === 1 || stream === 2) term.write(payload);
      else if (stream === 3) term.write(`\r\n[exited: ${new TextDecoder().decode(payload)}]\r\n`);
      off += 8 + len;
    }
    pending = all.slice(off);
  };
  term.onData((d) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const bytes = enc.encode(d);
    ws.send(kind === 'console' ? bytes : execFrame(0, bytes));
  });
  const onResize = () => {
    fit.fit();
    if (kind === 'shell' && ws.readyState === WebSocket.OPEN)
      ws.send(execFrame(4, enc.encode(JSON.stringify({ rows: term.rows, cols: term.cols }))));
  };
  window.addEventListener('resize', onResize);
  state.term = { term, ws, onResize };
}

// What the terminal shows, for people who script the page (and the browser test).
window.vkTerminalText = () => {
  if (!state.term) return '';
  const b = state.term.term.buffer.active, out = [];
  for (let y = 0; y < b.length; y++) out.push(b.getLine(y).translateToString(true));
  return out.join('\n');
};

// --- creating instances ---------------------------------------------------------------------------

// A command as typed: "/bin/sh -c REST" keeps REST whole, anything else splits on spaces.
const argsOf = (args) => (args.startsWith('/bin/sh -c ') ? ['/bin/sh', '-c', args.slice(11)] : args.split(/\s+/));

// The images the daemon has (GET /1.0/images), as choices of the form.
async function loadImages() {
  const sel = $('create-image');
  let images = [];
  try {
    images = (await api('GET', '/1.0/images')).images || [];
  } catch (e) {
    toast(`cannot read the images: ${e.message}`);
  }
  sel.replaceChildren(...images.map((i) => el('option', {
    value: i.fingerprint,
    textContent: `${(i.aliases && i.aliases[0]) || i.fingerprint.slice(0, 12)} (${i.type}, ${i.arch})` +
      (i.description ? ` ${i.description}` : ''),
  })));
  if (!images.length)
    sel.append(el('option', { value: '', textContent: 'no images yet: virtkit image import' }));
}

// What the form asks for: a definition to POST, or a launch from an image.
function definitionFrom(form) {
  const f = new FormData(form);
  const type = f.get('type');
  if (type === 'image') {
    const launch = { name: f.get('name').trim(), start: f.get('start') === 'on' };
    const memory = f.get('image-memory').trim(), args = f.get('image-args').trim();
    if (memory) launch.memory = memory;
    if (args) launch.args = argsOf(args);
    return { image: f.get('image'), launch };
  }
  const def = { name: f.get('name').trim(), type };
  if (type === 'container') {
    def.rootfs = f.get('rootfs').trim();
    def.process = { args: argsOf(f.get('args').trim()), terminal: f.get('terminal') === 'on' };
  } else {
    Object.assign(def, { arch: f.get('arch'), memory: f.get('memory').trim(), cpus: Number(f.get('cpus')),
      kernel: f.get('kernel').trim(), cmdline: f.get('cmdline') });
    if (f.get('initrd').trim()) def.initrd = f.get('initrd').trim();
  }
  return { def, start: f.get('start') === 'on' };
}

function setupCreate() {
  const dlg = $('create'), form = $('create-form');
  $('new').addEventListener('click', () => {
    $('create-error').classList.add('hidden');
    loadImages();
    dlg.showModal();
  });
  form.addEventListener('change', () => {
    const type = new FormData(form).get('type');
    for (const t of ['vm', 'container', 'image'])
      form.querySelector(`.for-${t}`).classList.toggle('hidden', type !== t);
  });
  $('create-ok').addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    const { def, start, image, launch } = definitionFrom(form);
    const errp = $('create-error');
    try {
      if (launch) {
        if (!image) throw new Error('there is no image to launch from: import one first (virtkit image import)');
        await api('POST', `/1.0/images/${encodeURIComponent(image)}/launch`, launch);
      } else {
        await api('POST', '/1.0/instances', def);
        if (start) await api('POST', `/1.0/instances/${encodeURIComponent(def.name)}/start`);
      }
      dlg.close();
      await loadInstances();
    } catch (e) {
      errp.textContent = e.message;
      errp.classList.remove('hidden');
      await loadInstances().catch(() => {});
    }
  });
}

// --- start -------------------------------------------------------------------------------------------

async function main() {
  $('filter').addEventListener('input', render);
  $('d-close').addEventListener('click', closeDetail);
  for (const t of ['graphs', 'console', 'shell']) $(`tab-${t}`).addEventListener('click', () => tab(t));
  setupCreate();
  try {
    const info = await api('GET', '/1.0');
    state.seq = info.event_seq || 0;
    await loadInstances();
  } catch (e) {
    toast(`cannot read the instances: ${e.message}`);
  }
  loadHost();
  followEvents();
  setInterval(loadHost, 10000);
  setInterval(pollGraphs, 2000);
  setInterval(pollTable, 5000);
  pollTable();
}

main();
