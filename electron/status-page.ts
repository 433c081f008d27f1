/**
 * What the headless server shows when the renderer is not built: a live, plain status page
 * over the same WebSocket contract, so a browser is useful before `npm run build:renderer`.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ScaleLab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:16px/1.4 system-ui,sans-serif;margin:24px;background:#0f1419;color:#e6e6e6}
 h1{font-size:22px;margin:0 0 4px} .muted{color:#9aa5b1} table{border-collapse:collapse;margin-top:16px;min-width:640px}
 th,td{text-align:left;padding:6px 14px;border-bottom:1px solid #26313d} th{color:#9aa5b1;font-weight:600} th:nth-child(n+4){text-align:right}
 td.num{text-align:right;font-variant-numeric:tabular-nums} .ready{color:#4cc38a} .starting,.terminating{color:#f5a524} .crashed,.stopped{color:#f31260} .paused{color:#7828c8}
 .figures{display:flex;gap:28px;margin-top:16px;flex-wrap:wrap} .figure b{display:block;font-size:26px;font-variant-numeric:tabular-nums}
</style></head>
<body>
<h1>ScaleLab</h1>
<div class="muted" id="state">connecting…</div>
<div class="figures" id="figures"></div>
<table><thead><tr><th>instance</th><th>service</th><th>phase</th><th>restarts</th><th>cpu %</th><th>rss MiB</th><th>rps</th></tr></thead><tbody id="rows"></tbody></table>
<p class="muted">This is the plain status page; the full dashboard is served here once the renderer is built.</p>
<script nonce="__NONCE__">
const $ = (id) => document.getElementById(id);
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
let next = 1; const pending = new Map();
const call = (command, payload = {}) => new Promise((resolve) => { const id = next++; pending.set(id, resolve); ws.send(JSON.stringify({ id, command, payload })); });
const fmt = (v, d = 0) => v === null || v === undefined ? '–' : Number(v).toFixed(d);
function render(status, sample) {
  $('state').textContent = status ? 'stack ' + (status.spec ? '"' + status.spec.name + '" ' : '') + status.state + (status.endpoints ? ' · balancer ' + status.endpoints.balancer : '') : '';
  if (!sample) return;
  const t = sample.traffic;
  $('figures').innerHTML = [['requests/s', fmt(t.rps)], ['errors/s', fmt(t.errorsPerSec)], ['p50 ms', fmt(t.p50, 1)], ['p95 ms', fmt(t.p95, 1)], ['p99 ms', fmt(t.p99, 1)],
    ['cache hit %', sample.cache.hitRate === null ? '–' : fmt(sample.cache.hitRate * 100)], ['queue waiting', fmt(sample.queue.waiting)], ['api ready', sample.replicas.apiReady + '/' + sample.replicas.api]]
    .map(([k, v]) => '<div class="figure"><span class="muted">' + k + '</span><b>' + v + '</b></div>').join('');
  $('rows').innerHTML = sample.instances.map((i) => '<tr><td>' + i.id + '</td><td>' + i.service + '</td><td class="' + i.phase + '">' + i.phase + '</td><td class="num">' + i.restarts +
    '</td><td class="num">' + fmt(i.cpu) + '</td><td class="num">' + fmt(i.rssBytes === null ? null : i.rssBytes / 1048576) + '</td><td class="num">' + fmt(i.rps) + '</td></tr>').join('');
}
let status = null;
ws.onmessage = (m) => { const msg = JSON.parse(m.data); if ('id' in msg) { pending.get(msg.id)?.(msg.result); pending.delete(msg.id); } else if (msg.event === 'sample') render(status, msg.data); };
ws.onopen = async () => { const r = await call('stack:status'); if (r.ok) { status = r.value; render(status, status.sample); } setInterval(async () => { const s = await call('stack:status'); if (s.ok) status = s.value; }, 2000); };
ws.onclose = () => { $('state').textContent = 'disconnected from the control plane'; };
</script></body></html>
`;
