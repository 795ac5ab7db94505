/*
 * tlsflow dashboard.  Plain JavaScript, no build step, no CDN: the page
 * renders the JSON of /api/v1/ with DOM calls and textContent only (never
 * innerHTML of data), and draws charts with the vendored uPlot.
 * Routes live in the URL's hash: #/overview, #/domains, #/domain/NAME,
 * #/reports, #/health, each with the query parameters of its view
 * (range or from/to, q, sort, order, page, direction, group, state).
 */
'use strict';
(function () {
  var COLORS = {
    tls: '#16a34a', plain: '#dc2626', failed: '#f59e0b', unknown: '#94a3b8',
    out: '#2563eb', in: '#0d9488', verified: '#7c3aed', grid: '#eef2f7',
    axis: '#64748b'
  };
  var PAGE_SIZE = 50;
  /* Whole-number steps for count axes. */
  var INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];
  var REFRESH_MS = 60000;
  var charts = [];
  var renderSeq = 0;
  var nf = new Intl.NumberFormat('en-US');

  /* ---- DOM helpers: text goes in through textContent only ---------- */
  function h(tag, props) {
    var el = document.createElement(tag);
    var k, v, i;
    props = props || {};
    for (k in props) {
      if (!Object.prototype.hasOwnProperty.call(props, k)) continue;
      v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'width') el.style.width = v;
      else if (k === 'color') el.style.background = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(el, k); }); return; }
    if (typeof kid === 'string' || typeof kid === 'number') {
      el.appendChild(document.createTextNode(String(kid)));
      return;
    }
    el.appendChild(kid);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function $(id) { return document.getElementById(id); }

  /* ---- formatting ------------------------------------------------- */
  function fmt(n) { return n === null || n === undefined ? '–' : nf.format(n); }
  function pct(x, digits) {
    if (x === null || x === undefined) return '–';
    var d = digits === undefined ? 1 : digits;
    return (x * 100).toFixed(d) + '%';
  }
  function grade(x) {
    if (x === null || x === undefined) return 'none';
    return x >= 0.95 ? 'good' : x >= 0.8 ? 'warn' : 'bad';
  }
  function when(ts) {
    if (!ts) return '–';
    return ts.replace('T', ' ').replace('Z', ' UTC');
  }
  function ago(secs) {
    if (secs === null || secs === undefined) return '–';
    if (secs < 90) return secs + ' s ago';
    if (secs < 5400) return Math.round(secs / 60) + ' min ago';
    if (secs < 172800) return Math.round(secs / 3600) + ' h ago';
    return Math.round(secs / 86400) + ' days ago';
  }
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + ' ' + u[i];
  }

  /* ---- routing ---------------------------------------------------- */
  function route() {
    var hash = location.hash.replace(/^#\/?/, '');
    var qi = hash.indexOf('?');
    var path = qi >= 0 ? hash.slice(0, qi) : hash;
    var params = new URLSearchParams(qi >= 0 ? hash.slice(qi + 1) : '');
    var parts = path.split('/');
    return { page: parts[0] || 'overview', arg: decodeURIComponent(parts.slice(1).join('/')), params: params };
  }
  function go(page, params, arg) {
    var p = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== '' && params[k] !== null && params[k] !== undefined) p.set(k, params[k]);
    });
    var s = p.toString();
    location.hash = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '') + (s ? '?' + s : '');
  }
  function current() {
    var r = route(), o = {};
    r.params.forEach(function (v, k) { o[k] = v; });
    return o;
  }
  function setParams(changes) {
    var r = route(), o = current();
    Object.keys(changes).forEach(function (k) { o[k] = changes[k]; });
    go(r.page, o, r.arg);
  }
  /* The time range of the view, as API parameters. */
  function rangeParams() {
    var p = route().params;
    if (p.get('from') && p.get('to')) return { from: p.get('from'), to: p.get('to') };
    return { range: p.get('range') || '30d' };
  }
  function rangeLabel(r) {
    if (!r) return '';
    var names = { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days', '90d': 'last 90 days', '1y': 'last year', custom: 'custom range' };
    var span = r.source === 'sessions' ? when(r.start) + ' – ' + when(r.end) : r.from + ' – ' + r.to + ' (UTC days)';
    return (names[r.name] || r.name) + ' · ' + span;
  }

  /* ---- the API ---------------------------------------------------- */
  function token() { try { return sessionStorage.getItem('tlsflow-token'); } catch (e) { return null; } }
  function api(path, params) {
    var q = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== '' && params[k] !== null && params[k] !== undefined) q.set(k, params[k]);
    });
    var headers = {};
    var t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    var url = '/api/v1/' + path + (q.toString() ? '?' + q.toString() : '');
    return fetch(url, { headers: headers, credentials: 'same-origin' }).then(function (res) {
      if (res.status === 401) { showLogin(); throw new Error('authentication required'); }
      var ct = res.headers.get('Content-Type') || '';
      if (ct.indexOf('application/json') < 0) {
        return res.blob().then(function (b) { if (!res.ok) throw new Error('HTTP ' + res.status); return b; });
      }
      return res.json().then(function (j) {
        if (!res.ok) { var e = new Error(j.error || ('HTTP ' + res.status)); e.status = res.status; throw e; }
        return j;
      });
    });
  }
  function showLogin() {
    var had = token();
    try { sessionStorage.removeItem('tlsflow-token'); } catch (e) { /* private mode */ }
    if (had) $('login-error').hidden = false;
    $('login').hidden = false;
    $('page').hidden = true;
    $('token').focus();
  }
  function download(path, params, name) {
    var p = Object.assign({}, params);
    api(path, p).then(function (data) {
      var blob = data instanceof Blob ? data : new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      var a = h('a', { href: URL.createObjectURL(blob), download: name });
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(function (e) { notice(e.message, true); });
  }

  /* ---- page furniture --------------------------------------------- */
  function notice(msg, isError, action) {
    var n = $('notice');
    clear(n);
    if (!msg) { n.hidden = true; return; }
    n.className = 'notice' + (isError ? ' error' : '');
    add(n, msg);
    if (action) add(n, h('button', { type: 'button', class: 'btn ghost', onclick: action.fn, text: action.label }));
    n.hidden = false;
  }
  function banner(text) {
    var b = $('banner');
    b.textContent = text || '';
    b.hidden = !text;
  }
  function setTitle(t, sub) {
    $('title').textContent = t;
    $('subtitle').textContent = sub || '';
    document.title = t + ' — tlsflow';
  }
  function syncChrome(r) {
    document.querySelectorAll('.nav').forEach(function (a) {
      a.classList.toggle('active', a.getAttribute('data-page') === (r.page === 'domain' ? 'domains' : r.page));
    });
    var p = r.params, sel = p.get('from') ? 'custom' : (p.get('range') || '30d');
    document.querySelectorAll('#range > button').forEach(function (b) {
      b.classList.toggle('on', b.getAttribute('data-range') === sel);
    });
    $('custom').hidden = sel !== 'custom';
    if (p.get('from')) { $('from').value = p.get('from'); $('to').value = p.get('to'); }
    $('range').hidden = r.page === 'health';
  }
  function card(title, body, extra) {
    return h('section', { class: 'card' + (extra ? ' ' + extra : '') }, title ? h('h2', { text: title }) : null, body);
  }
  function stack(parts, tall) {
    var total = parts.reduce(function (s, p) { return s + (p.value || 0); }, 0);
    var el = h('div', { class: 'stack' + (tall ? ' tall' : ''), role: 'img', 'aria-label': parts.map(function (p) { return p.label + ' ' + fmt(p.value); }).join(', ') });
    if (total > 0) parts.forEach(function (p) {
      if (p.value > 0) el.appendChild(h('span', { class: p.cls, width: (100 * p.value / total) + '%', title: p.label + ': ' + fmt(p.value) + ' (' + pct(p.value / total) + ')' }));
    });
    return el;
  }
  function legend(items) {
    return h('div', { class: 'legend' }, items.map(function (it) {
      return h('span', null, h('i', { class: (it.cls || '') + (it.dash ? ' dash' : ''), color: it.color }), it.label);
    }));
  }
  function tlsParts(s) {
    return [
      { label: 'Encrypted', value: s.tls, cls: 'c-tls' },
      { label: 'Plaintext', value: s.plaintext, cls: 'c-plain' },
      { label: 'TLS failed', value: s.failed, cls: 'c-failed' },
      { label: 'Unknown', value: s.unknown, cls: 'c-unknown' }
    ];
  }
  function tlsLegend() {
    return legend([
      { label: 'Encrypted', cls: 'c-tls' }, { label: 'Plaintext', cls: 'c-plain' },
      { label: 'TLS failed', cls: 'c-failed' }, { label: 'Unknown (not counted)', cls: 'c-unknown' }
    ]);
  }
  function barList(items, color) {
    if (!items.length) return h('div', { class: 'empty', text: 'Nothing in this range' });
    var max = items.reduce(function (m, it) { return Math.max(m, it.value); }, 0) || 1;
    return h('ul', { class: 'bars' }, items.map(function (it) {
      return h('li', null,
        h('span', { class: 'name', title: it.title || it.label, text: it.label }),
        h('span', { class: 'num', text: it.num || fmt(it.value) }),
        h('span', { class: 'track' }, h('span', { width: (100 * it.value / max) + '%', color: it.color || color })));
    }));
  }
  function table(cols, rows, opts) {
    opts = opts || {};
    var thead = h('tr', null, cols.map(function (c) {
      var cls = (c.num ? 'num ' : '') + (c.sort ? 'sortable ' : '') + (opts.sort && c.sort === opts.sort ? 'sorted ' + (opts.order === 'asc' ? 'asc' : '') : '');
      return h('th', { class: cls.trim() || null, 'data-sort': c.sort || null, onclick: c.sort && opts.onSort ? function () { opts.onSort(c.sort); } : null, text: c.label });
    }));
    var body = h('tbody');
    rows.forEach(function (r) {
      var tr = h('tr', { class: opts.onRow ? 'link' : null });
      if (opts.key) tr.setAttribute('data-key', opts.key(r));
      if (opts.onRow) tr.addEventListener('click', function (ev) { if (ev.target.tagName !== 'A') opts.onRow(r); });
      cols.forEach(function (c) {
        var v = c.cell(r);
        tr.appendChild(v instanceof Node ? h('td', { class: (c.num ? 'num ' : '') + (c.cls || '') || null }, v)
          : h('td', { class: (c.num ? 'num ' : '') + (c.cls || '') || null, text: v === null || v === undefined ? '–' : v }));
      });
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(h('tr', null, h('td', { colspan: cols.length, class: 'empty', text: opts.empty || 'Nothing in this range' })));
    return h('div', { class: 'tablewrap' }, h('table', { id: opts.id || null }, h('thead', null, thead), body));
  }
  function shareCell(share, s) {
    return h('div', { class: 'sharecell' },
      stack(tlsParts(s)),
      h('span', { class: 'pct ' + grade(share), text: pct(share) }));
  }
  /* "TLSv1.3" -> "1.3", "TLSv1" -> "1.0": narrow cells. */
  function shortVersion(v) {
    var m = /^TLSv(\d)(?:\.(\d))?$/.exec(v || '');
    return m ? m[1] + '.' + (m[2] || '0') : (v || '?');
  }
  function dirBadge(d) {
    var short = { outbound: 'out', inbound: 'in', submission: 'sub', all: 'in+out' }[d] || d;
    return h('span', { class: 'dir ' + d, title: d, text: short });
  }
  function domainLink(name) {
    return h('a', { href: '#/domain/' + encodeURIComponent(name || '-') + rangeHash(), text: name || '(no domain)' });
  }
  function rangeHash() {
    var p = rangeParams(), q = new URLSearchParams(p).toString();
    return q ? '?' + q : '';
  }

  /* ---- charts (uPlot) --------------------------------------------- */
  function destroyCharts() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
  }
  function chartWidth(el) { return Math.max(280, el.clientWidth || el.parentNode.clientWidth || 600); }
  function timeAxis() {
    return { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid } };
  }
  function toPct(a) { return a.map(function (x) { return x === null ? null : Math.round(x * 10000) / 100; }); }
  /* Encrypted (and verified) share per bucket, one line per direction. */
  function shareChart(el, s, dirs) {
    if (!window.uPlot) return;
    var series = [{}], data = [s.t];
    dirs.forEach(function (d) {
      var color = d === 'inbound' ? COLORS.in : COLORS.out;
      var name = d === 'inbound' ? 'Inbound' : 'Outbound';
      series.push({ label: name + ' encrypted', stroke: color, width: 2, spanGaps: true, points: { size: 5, fill: color }, value: function (u, v) { return v === null ? '–' : v.toFixed(1) + '%'; } });
      data.push(toPct(s[d].encrypted_share));
      /* Inbound peers are not verified (smtpd sees anonymous TLS). */
      if (d === 'inbound') return;
      series.push({ label: name + ' verified/trusted', stroke: color, width: 1.5, dash: [5, 4], spanGaps: true, points: { show: false }, value: function (u, v) { return v === null ? '–' : v.toFixed(1) + '%'; } });
      data.push(toPct(s[d].verified_share));
    });
    var u = new uPlot({
      width: chartWidth(el), height: 260,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [timeAxis(), { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, size: 48, values: function (u, vals) { return vals.map(function (v) { return v + '%'; }); } }],
      series: series,
      cursor: { points: { size: 7 } }
    }, data, el);
    charts.push(u);
  }
  /* Sessions per bucket, stacked: encrypted, plaintext, failed, unknown. */
  function volumeChart(el, s, dir) {
    if (!window.uPlot) return;
    var d = s[dir || 'total'];
    var n = s.t.length, layers = [d.tls, d.plaintext, d.failed, d.unknown];
    var cum = [], acc = new Array(n).fill(0);
    layers.forEach(function (l) { acc = acc.map(function (a, i) { return a + (l[i] || 0); }); cum.push(acc.slice()); });
    var names = ['Encrypted', 'Plaintext', 'TLS failed', 'Unknown'];
    var cols = [COLORS.tls, COLORS.plain, COLORS.failed, COLORS.unknown];
    var bars = uPlot.paths.bars({ size: [0.72, 48], gap: 1 });
    var series = [{}], data = [s.t];
    for (var i = 3; i >= 0; i--) {
      (function (k) {
        series.push({ label: names[k], fill: cols[k], stroke: cols[k], width: 0, paths: bars, points: { show: false }, value: function (u, v, si, idx) { return idx === null || idx === undefined ? '–' : fmt(layers[k][idx]); } });
      })(i);
      data.push(cum[i]);
    }
    var u = new uPlot({
      width: chartWidth(el), height: 230,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, max) * 1.08]; } } },
      axes: [timeAxis(), { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, size: 56, incrs: INT_INCRS, values: function (u, vals) { return vals.map(function (v) { return fmt(v); }); } }],
      series: series,
      cursor: { points: { show: false } }
    }, data, el);
    charts.push(u);
  }
  window.addEventListener('resize', function () {
    charts.forEach(function (u) {
      var el = u.root.parentNode;
      if (el) u.setSize({ width: chartWidth(el), height: u.height });
    });
  });

  /* ---- Overview --------------------------------------------------- */
  function kpi(label, value, cls, sub, extra, id) {
    return h('section', { class: 'card kpi', id: id || null },
      h('div', { class: 'label', text: label }),
      h('div', { class: 'value ' + (cls || ''), text: value }),
      h('div', { class: 'sub', text: sub || '' }),
      extra || null);
  }
  function dirKpi(label, t, id) {
    var s = t.sessions;
    var known = s.tls + s.plaintext + s.failed;
    /* Inbound TLS is anonymous: the client's certificate is not checked. */
    var trust = id === 'kpi-inbound' ? '' : ' · ' + pct(t.verified_share) + ' verified/trusted';
    return kpi(label, pct(t.encrypted_share), grade(t.encrypted_share),
      known ? fmt(s.tls) + ' of ' + fmt(known) + ' sessions' + trust : 'no sessions with known TLS state',
      stack(tlsParts(s)), id);
  }
  function versionsBlock(v, title) {
    var items = (v || []).map(function (x) { return { label: x.version, value: x.sessions, num: pct(x.share) + ' · ' + fmt(x.sessions) }; });
    return h('div', { class: 'versions' }, h('h3', { text: title }), barList(items, COLORS.out));
  }
  function failuresBlock(f) {
    return barList((f || []).map(function (x) {
      return { label: x.result, value: x.sessions, num: fmt(x.sessions) + (x.sessions === 1 ? ' session' : ' sessions') };
    }), COLORS.failed);
  }
  function trustBlock(t) {
    var tr = t.trust || {};
    var items = [
      { label: 'Verified (policy match)', value: tr.verified || 0, color: COLORS.verified },
      { label: 'Trusted (valid chain)', value: tr.trusted || 0, color: COLORS.out },
      { label: 'Untrusted', value: tr.untrusted || 0, color: COLORS.failed },
      { label: 'Anonymous', value: tr.anonymous || 0, color: COLORS.unknown },
      { label: 'Not logged', value: tr.none || 0, color: '#cbd5e1' }
    ].filter(function (x) { return x.value > 0; });
    return barList(items);
  }

  function overview(seq) {
    var rp = rangeParams();
    return Promise.all([
      api('summary', rp),
      api('series', rp),
      api('domains', Object.assign({ sort: 'plaintext', limit: 8 }, rp))
    ]).then(function (res) {
      if (seq !== renderSeq) return;
      var sum = res[0], ser = res[1], top = res[2], page = $('page');
      var T = sum.total;
      setTitle('Overview', fmt(T.sessions.total) + ' sessions · ' + fmt(T.messages.total) + ' messages · ' + rangeLabel(sum.range));
      if (!T.sessions.total && sum.span && sum.span.last) {
        notice('No sessions in this range. The data spans ' + sum.span.first + ' – ' + sum.span.last + '.', false,
          { label: 'Show that', fn: function () { setParams({ range: '', from: sum.span.first, to: sum.span.last }); } });
      } else if (!T.sessions.total) {
        notice('No sessions recorded yet. Once "tlsflow collect" reads a mail log, they appear here.');
      }
      clear(page);
      add(page, h('div', { class: 'grid kpis' },
        dirKpi('Outbound encrypted', sum.outbound, 'kpi-outbound'),
        dirKpi('Inbound encrypted', sum.inbound, 'kpi-inbound'),
        kpi('Messages encrypted', pct(T.messages_encrypted_share), grade(T.messages_encrypted_share),
          fmt(T.messages.tls) + ' of ' + fmt(T.messages.tls + T.messages.plaintext + T.messages.failed) + ' messages', stack(tlsParts(T.messages)), 'kpi-messages'),
        kpi('TLS failures', fmt(T.sessions.failed), T.sessions.failed ? 'warn' : 'good',
          T.failures.length ? 'most: ' + T.failures[0].result : 'no failed handshakes or policy failures', null, 'kpi-failed'),
        kpi('Unknown', fmt(T.sessions.unknown), 'none',
          'sessions whose log shows no TLS evidence — counted in neither share', null, 'kpi-unknown')));
      var shareEl = h('div', { class: 'chart', id: 'chart-share' });
      var volEl = h('div', { class: 'chart', id: 'chart-volume' });
      var dirs = ['outbound', 'inbound'].filter(function (d) { return sum[d].sessions.total > 0; });
      if (!dirs.length) dirs = ['outbound'];
      add(page, h('div', { class: 'grid two' },
        card(null, [h('div', { class: 'chart-head' }, h('h2', { text: 'Encrypted share over time' }), h('span', { class: 'muted', text: 'per ' + ser.bucket + ' · dashed: outbound with a verified or trusted certificate' })), shareEl]),
        card('TLS versions', [
          versionsBlock(sum.tls_versions.outbound, 'Outbound'),
          versionsBlock(sum.tls_versions.inbound, 'Inbound')])));
      add(page, h('div', { class: 'grid two' },
        card(null, [h('div', { class: 'chart-head' }, h('h2', { text: 'Sessions over time' }), h('span', { class: 'muted', text: 'all directions, per ' + ser.bucket + ' · unknown is counted in neither share' })), volEl]),
        card('Failures by result type', failuresBlock(T.failures))));
      add(page, h('div', { class: 'grid two' },
        card('Most plaintext sessions', table([
          { label: 'Domain', cls: 'domain', cell: function (r) { return domainLink(r.domain); } },
          { label: 'Sessions', num: true, cell: function (r) { return fmt(r.sessions); } },
          { label: 'Plaintext', num: true, cell: function (r) { return fmt(r.plaintext); } },
          { label: 'Encrypted', cell: function (r) { return shareCell(r.encrypted_share, r); } },
          { label: 'Last plaintext', cell: function (r) { return r.last_plaintext; } }
        ], top.rows.filter(function (r) { return r.plaintext > 0; }), { id: 'top-plain', empty: 'No plaintext sessions in this range', onRow: function (r) { location.hash = '#/domain/' + encodeURIComponent(r.domain || '-') + rangeHash(); } })),
        card('Trust of encrypted sessions', trustBlock(T))));
      shareChart(shareEl, ser, dirs);
      volumeChart(volEl, ser, 'total');
    });
  }

  /* ---- Domains ---------------------------------------------------- */
  function domains(seq) {
    var p = route().params;
    var q = p.get('q') || '', sort = p.get('sort') || 'sessions', order = p.get('order') || '';
    var dir = p.get('direction') || 'all', group = p.get('group') || 'domain';
    var pageNo = Math.max(1, parseInt(p.get('page') || '1', 10) || 1);
    var params = Object.assign({ sort: sort, direction: dir, group: group, limit: PAGE_SIZE, offset: (pageNo - 1) * PAGE_SIZE }, rangeParams());
    if (q) params.q = q;
    if (order) params.order = order;
    return api('domains', params).then(function (d) {
      if (seq !== renderSeq) return;
      var mx = d.group === 'mx', page = $('page');
      setTitle(mx ? 'MX and client hosts' : 'Domains', fmt(d.total) + (mx ? ' hosts' : ' peer domains') + ' · ' + rangeLabel(d.range));
      clear(page);
      var search = h('input', { type: 'search', id: 'search', placeholder: mx ? 'Search hosts…' : 'Search domains…', value: q, 'aria-label': 'Search' });
      var timer = null;
      search.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(function () { setParams({ q: search.value.trim().toLowerCase(), page: '' }); }, 350);
      });
      var dirSel = h('select', { id: 'direction', 'aria-label': 'Direction', onchange: function () { setParams({ direction: dirSel.value === 'all' ? '' : dirSel.value, page: '' }); } },
        ['all', 'outbound', 'inbound', 'submission'].map(function (v) { var o = h('option', { value: v, text: v === 'all' ? 'All directions' : v[0].toUpperCase() + v.slice(1) }); if (v === dir) o.selected = true; return o; }));
      var seg = h('div', { class: 'seg', role: 'group', 'aria-label': 'Group by' },
        h('button', { type: 'button', class: mx ? null : 'on', text: 'Domains', onclick: function () { setParams({ group: '', page: '', sort: '' }); } }),
        h('button', { type: 'button', class: mx ? 'on' : null, text: 'MX hosts', onclick: function () { setParams({ group: 'mx', page: '', sort: '' }); } }));
      var exportParams = Object.assign({}, params);
      delete exportParams.limit; delete exportParams.offset;
      add(page, h('section', { class: 'card' },
        h('div', { class: 'toolbar' }, search, seg, dirSel, h('span', { class: 'grow' }),
          h('button', { type: 'button', class: 'btn ghost', id: 'export-csv', text: 'Export CSV', onclick: function () { download('domains', Object.assign({ format: 'csv' }, exportParams), 'tlsflow-' + group + '.csv'); } }),
          h('button', { type: 'button', class: 'btn ghost', id: 'export-json', text: 'Export JSON', onclick: function () { download('domains', Object.assign({ format: 'json', limit: 100000 }, exportParams), 'tlsflow-' + group + '.json'); } })),
        table([
          { label: mx ? 'Host' : 'Domain', sort: 'domain', cls: 'domain', cell: function (r) { return h('span', null, mx ? (r.host || '(unknown)') : domainLink(r.domain), dirBadge(r.direction)); } },
          { label: 'Sessions', num: true, sort: 'sessions', cell: function (r) { return fmt(r.sessions); } },
          { label: 'Messages', num: true, sort: 'messages', cell: function (r) { return fmt(r.messages); } },
          { label: 'Encrypted', sort: 'encrypted', cell: function (r) { return shareCell(r.encrypted_share, r); } },
          { label: 'Verified', num: true, sort: 'verified', cell: function (r) { return r.direction === 'inbound' ? h('span', { class: 'muted', title: 'inbound TLS is not verified', text: 'n/a' }) : pct(r.verified_share); } },
          { label: 'Plaintext', num: true, sort: 'plaintext', cell: function (r) { return fmt(r.plaintext); } },
          { label: 'Failed', num: true, sort: 'failed', cell: function (r) { return fmt(r.failed); } },
          { label: 'Unknown', num: true, sort: 'unknown', cell: function (r) { return fmt(r.unknown); } },
          { label: 'Last plaintext', sort: 'last_plaintext', cell: function (r) { return r.last_plaintext ? when(r.last_plaintext) : '–'; } },
          mx ? { label: 'Domains', num: true, cell: function (r) { return fmt(r.domains); } }
            : { label: 'TLS', cell: function (r) { return h('span', null, r.tls_versions.map(function (v) { return h('span', { class: 'pill ver', title: v.version + ': ' + fmt(v.sessions) + ' sessions', text: shortVersion(v.version) }); })); } }
        ], d.rows, {
          id: 'domtable', sort: d.sort, order: d.order,
          key: function (r) { return mx ? r.host : r.domain; },
          empty: q ? 'No match for "' + q + '"' : 'Nothing in this range',
          onSort: function (s) {
            var same = s === d.sort;
            setParams({ sort: s, order: same ? (d.order === 'asc' ? 'desc' : 'asc') : '', page: '' });
          },
          onRow: mx ? null : function (r) { location.hash = '#/domain/' + encodeURIComponent(r.domain || '-') + rangeHash(); }
        }),
        pager(d, pageNo)));
      if (document.activeElement === document.body && q) { search.focus(); search.setSelectionRange(q.length, q.length); }
    });
  }
  function pager(d, pageNo) {
    var first = d.total ? d.offset + 1 : 0, last = Math.min(d.total, d.offset + d.rows.length);
    var pages = Math.max(1, Math.ceil(d.total / d.limit));
    return h('div', { class: 'pager' },
      h('span', { id: 'pageinfo', text: fmt(first) + '–' + fmt(last) + ' of ' + fmt(d.total) }),
      h('div', { class: 'btns' },
        h('button', { type: 'button', class: 'btn ghost', id: 'prev', disabled: pageNo <= 1, text: '‹ Previous', onclick: function () { setParams({ page: pageNo - 1 }); } }),
        h('span', { class: 'muted', text: 'page ' + pageNo + ' of ' + pages }),
        h('button', { type: 'button', class: 'btn ghost', id: 'next', disabled: pageNo >= pages, text: 'Next ›', onclick: function () { setParams({ page: pageNo + 1 }); } })));
  }

  /* ---- Domain detail ---------------------------------------------- */
  function detail(seq, name) {
    return api('domains/' + encodeURIComponent(name), rangeParams()).then(function (d) {
      if (seq !== renderSeq) return;
      var page = $('page'), S = d.summary;
      setTitle(d.domain || '(no domain)', fmt(S.total.sessions.total) + ' sessions · ' + fmt(S.total.messages.total) + ' messages · ' + d.range.from + ' – ' + d.range.to);
      clear(page);
      add(page, h('a', { class: 'back', href: '#/domains' + rangeHash(), text: '‹ All domains' }));
      var lastPlain = d.recent_plaintext.length ? d.recent_plaintext[0].ts : null;
      var dirs = ['outbound', 'inbound'].filter(function (x) { return S[x].sessions.total > 0; });
      if (!dirs.length) dirs = ['outbound'];
      add(page, h('div', { class: 'grid kpis' },
        dirs.map(function (x) { return dirKpi(x === 'inbound' ? 'Inbound encrypted' : 'Outbound encrypted', S[x], 'kpi-' + x); }),
        kpi('Sessions', fmt(S.total.sessions.total), '', fmt(S.total.messages.total) + ' messages', null, 'kpi-sessions'),
        kpi('Failed TLS', fmt(S.total.sessions.failed), S.total.sessions.failed ? 'warn' : 'good', S.total.failures.length ? 'most: ' + S.total.failures[0].result : 'none'),
        kpi('Unknown', fmt(S.total.sessions.unknown), 'none', 'not counted in either share'),
        kpi('Last plaintext', lastPlain ? lastPlain.slice(0, 10) : 'none', (lastPlain ? 'bad' : 'good') + ' small', lastPlain ? when(lastPlain) : 'in ' + (d.sessions_window.from === d.range.from ? 'this range' : 'the last 31 days'))));
      var shareEl = h('div', { class: 'chart', id: 'chart-share' });
      var volEl = h('div', { class: 'chart', id: 'chart-volume' });
      add(page, h('div', { class: 'grid halves' },
        card('Daily encrypted share', shareEl),
        card('Daily sessions', volEl)));
      var win = 'from raw sessions, ' + d.sessions_window.from + ' – ' + d.sessions_window.to;
      add(page, card(null, [h('div', { class: 'chart-head' }, h('h2', { text: 'MX and client hosts' }), h('span', { class: 'muted', text: win })), table([
        { label: 'Host', cls: 'domain', cell: function (r) { return r.host || '(unknown)'; } },
        { label: 'Direction', cell: function (r) { return r.direction; } },
        { label: 'Sessions', num: true, cell: function (r) { return fmt(r.sessions); } },
        { label: 'Messages', num: true, cell: function (r) { return fmt(r.messages); } },
        { label: 'Encrypted', cell: function (r) { var k = r.tls + r.plaintext + r.failed; return shareCell(k ? r.tls / k : null, r); } },
        { label: 'Plaintext', num: true, cell: function (r) { return fmt(r.plaintext); } },
        { label: 'Failed', num: true, cell: function (r) { return fmt(r.failed); } },
        { label: 'IP addresses', cls: 'wrap mono', cell: function (r) { return r.ips.join(', '); } },
        { label: 'Last seen', cell: function (r) { return when(r.last_seen); } }
      ], d.hosts, { id: 'hosts' })], 'spaced'));
      add(page, h('div', { class: 'grid halves' },
        card('TLS versions and ciphers', table([
          { label: 'Direction', cell: function (r) { return r.direction; } },
          { label: 'Version', cell: function (r) { return r.version || 'unknown'; } },
          { label: 'Cipher', cls: 'mono', cell: function (r) { return r.cipher || 'unknown'; } },
          { label: 'Sessions', num: true, cell: function (r) { return fmt(r.sessions); } }
        ], d.ciphers, { id: 'ciphers', empty: 'No encrypted sessions' })),
        card('Failures and reasons', table([
          { label: 'Result', cell: function (r) { return h('span', { class: 'pill failed', text: r.result || 'unspecified' }); } },
          { label: 'Reason', cls: 'wrap', cell: function (r) { return r.reason || '–'; } },
          { label: 'Sessions', num: true, cell: function (r) { return fmt(r.sessions); } },
          { label: 'Last seen', cls: 'wrap', cell: function (r) { return when(r.last_seen); } }
        ], d.failures, { id: 'failures', empty: 'No TLS failures' }))));
      add(page, card(null, [h('div', { class: 'chart-head' }, h('h2', { text: 'Recent plaintext sessions' }), h('span', { class: 'muted', text: d.recent_plaintext.length > 20 ? 'latest 20 of ' + d.recent_plaintext.length + ' shown' : '' })), table([
        { label: 'Time', cell: function (r) { return when(r.ts); } },
        { label: 'Direction', cell: function (r) { return r.direction; } },
        { label: 'Peer', cell: function (r) { return r.peer_host || '(unknown)'; } },
        { label: 'IP', cls: 'mono', cell: function (r) { return r.peer_ip; } },
        { label: 'Messages', num: true, cell: function (r) { return fmt(r.messages); } },
        { label: 'Status', cell: function (r) { return r.status || '–'; } },
        { label: 'MTA', cell: function (r) { return r.mta; } },
        { label: 'Origin', cls: 'mono', cell: function (r) { return r.origin; } }
      ], d.recent_plaintext.slice(0, 20), { id: 'plaintext', empty: 'No plaintext sessions' })], 'spaced'));
      add(page, card('TLS-RPT reports sent for ' + (d.domain || '(no domain)'), reportsTable(d.reports, false), 'spaced'));
      shareChart(shareEl, d.series, dirs);
      volumeChart(volEl, d.series, 'total');
    }).catch(function (e) {
      if (e.status === 404) {
        setTitle(name, 'no data');
        clear($('page'));
        add($('page'), h('a', { class: 'back', href: '#/domains' + rangeHash(), text: '‹ All domains' }));
        notice('Nothing is known about ' + name + ' in this time range.');
        return;
      }
      throw e;
    });
  }
  function deliveries(list) {
    if (!list.length) return h('span', { class: 'muted', text: 'no destination' });
    return h('div', null, list.map(function (x) {
      return h('div', { class: 'delivery', title: x.last_error || '' },
        h('span', { class: 'pill ' + x.state, text: x.state }),
        h('span', { class: 'mono', text: x.destination }),
        h('span', { class: 'meta muted', text: fmt(x.attempts) + (x.attempts === 1 ? ' attempt' : ' attempts') + (x.delivered ? ' · delivered ' + when(x.delivered) : '') + (x.last_error ? ' · ' + x.last_error : '') + (x.next_attempt && !x.delivered ? ' · next ' + when(x.next_attempt) : '') }));
    }));
  }
  function reportsTable(rows, withDomain) {
    var cols = [{ label: 'Day', cell: function (r) { return r.day; } }];
    if (withDomain) cols.push({ label: 'Policy domain', cls: 'domain', cell: function (r) { return domainLink(r.policy_domain); } });
    cols.push(
      { label: 'Policy', cell: function (r) { return r.policy_type; } },
      { label: 'Successful', num: true, cell: function (r) { return fmt(r.successful); } },
      { label: 'Failed', num: true, cell: function (r) { return fmt(r.failed); } },
      { label: 'Unknown', num: true, cell: function (r) { return fmt(r.unknown); } },
      { label: 'Deliveries', cls: 'wrap', cell: function (r) { return deliveries(r.deliveries); } },
      { label: 'Generated', cell: function (r) { return when(r.generated); } });
    return table(cols, rows, { id: 'reports', empty: 'No reports generated in this range' });
  }

  /* ---- Reports ---------------------------------------------------- */
  function reports(seq) {
    var p = route().params, q = p.get('q') || '', state = p.get('state') || '';
    var pageNo = Math.max(1, parseInt(p.get('page') || '1', 10) || 1);
    var params = Object.assign({ limit: PAGE_SIZE, offset: (pageNo - 1) * PAGE_SIZE }, rangeParams());
    if (q) params.q = q;
    if (state) params.state = state;
    return api('reports', params).then(function (d) {
      if (seq !== renderSeq) return;
      var page = $('page');
      setTitle('Reports', fmt(d.total) + ' TLS-RPT reports · ' + rangeLabel(d.range));
      clear(page);
      var search = h('input', { type: 'search', id: 'search', placeholder: 'Search policy domains…', value: q, 'aria-label': 'Search' });
      var timer = null;
      search.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(function () { setParams({ q: search.value.trim().toLowerCase(), page: '' }); }, 350);
      });
      var sel = h('select', { id: 'state', 'aria-label': 'Delivery state', onchange: function () { setParams({ state: sel.value, page: '' }); } },
        ['', 'pending', 'sending', 'sent', 'failed', 'interrupted', 'suppressed'].map(function (v) { var o = h('option', { value: v, text: v ? 'Delivery ' + v : 'Any delivery state' }); if (v === state) o.selected = true; return o; }));
      var counts = Object.keys(d.deliveries).map(function (k) { return h('span', { class: 'pill ' + k, text: k + ': ' + fmt(d.deliveries[k]) }); });
      add(page, h('section', { class: 'card' },
        h('div', { class: 'toolbar' }, search, sel, h('span', { class: 'grow' }), counts.length ? h('span', null, counts) : h('span', { class: 'muted', text: 'no deliveries in this range' })),
        reportsTable(d.rows, true),
        pager(d, pageNo)));
    });
  }

  /* ---- Health ----------------------------------------------------- */
  function health(seq) {
    return api('health').then(function (d) {
      if (seq !== renderSeq) return;
      var page = $('page'), db = d.database, sv = d.server;
      setTitle('Health', 'database, collectors and this server');
      clear(page);
      add(page, h('div', { class: 'grid halves' },
        card('Database', h('dl', { class: 'kv', id: 'db' },
          h('dt', { text: 'State' }), h('dd', null, h('span', { class: 'dot ' + (db.connected ? 'ok' : 'bad') }), db.connected ? 'connected' : 'unreachable'),
          h('dt', { text: 'PostgreSQL' }), h('dd', { text: db.version }),
          h('dt', { text: 'Size' }), h('dd', { text: bytes(db.size_bytes) }),
          h('dt', { text: 'Session partitions' }), h('dd', { text: fmt(db.session_partitions) + ' days kept' }),
          h('dt', { text: 'Rollup rows' }), h('dd', { text: db.daily_rows_estimate >= 0 ? '≈ ' + fmt(db.daily_rows_estimate) : 'not yet analysed' }),
          h('dt', { text: 'Schema' }), h('dd', { text: 'migration ' + db.schema_version }),
          h('dt', { text: 'Role' }), h('dd', { text: db.user + (db.read_only ? ' (read-only session)' : '') }),
          h('dt', { text: 'Query latency' }), h('dd', { text: db.latency_ms.toFixed(1) + ' ms' }))),
        card('This server', h('dl', { class: 'kv', id: 'server' },
          h('dt', { text: 'Version' }), h('dd', { text: 'tlsflow ' + sv.version }),
          h('dt', { text: 'Up' }), h('dd', { text: ago(sv.uptime_seconds).replace(' ago', '') }),
          h('dt', { text: 'Requests' }), h('dd', { text: fmt(sv.requests) + ' (' + fmt(sv.status_4xx) + ' client errors, ' + fmt(sv.status_5xx) + ' server errors)' }),
          h('dt', { text: 'Cache' }), h('dd', { text: fmt(sv.cache.entries) + ' views, ' + fmt(sv.cache.hits + sv.cache.stale_hits) + ' hits, ' + fmt(sv.cache.misses) + ' misses, ' + fmt(sv.cache.refreshes) + ' refreshes' }),
          h('dt', { text: 'Data generation' }), h('dd', { text: fmt(sv.generation) })))));
      add(page, card('Collectors', table([
        { label: 'State', cell: function (c) { var st = c.stalled ? 'warn' : 'ok'; return h('span', null, h('span', { class: 'dot ' + st }), c.stalled ? 'behind' : 'ok'); } },
        { label: 'Host', cell: function (c) { return c.host; } },
        { label: 'Source', cls: 'wrap mono', cell: function (c) { return c.kind + ': ' + c.name; } },
        { label: 'Position', num: true, cell: function (c) { return c.kind === 'file' ? bytes(c.offset) : fmt(c.offset); } },
        { label: 'Behind', num: true, cell: function (c) { return c.behind_bytes === undefined ? '–' : bytes(c.behind_bytes); } },
        { label: 'Last stored', cell: function (c) { return ago(c.seconds_since_update); } },
        { label: 'Last line (lag)', cell: function (c) { return c.counters && c.counters.last_event ? when(c.counters.last_event) + ' (' + ago(Math.max(0, Math.round((Date.now() - Date.parse(c.counters.last_event)) / 1000))).replace(' ago', '') + ')' : '–'; } },
        { label: 'Lines', num: true, cell: function (c) { return c.counters ? fmt(c.counters.lines) : '–'; } },
        { label: 'Skipped', num: true, cell: function (c) { return c.counters ? fmt(c.counters.other + c.counters.unused) : '–'; } },
        { label: 'Malformed', num: true, cell: function (c) { return c.counters ? fmt(c.counters.malformed) : '–'; } }
      ], d.collectors, { id: 'collectors', empty: 'No collector has stored anything yet' })));
      $('foot-version').textContent = 'tlsflow ' + sv.version;
    });
  }

  /* ---- the loop --------------------------------------------------- */
  function render(quiet) {
    var r = route(), seq = ++renderSeq, p;
    syncChrome(r);
    if (!quiet) notice('');
    destroyCharts();
    $('login').hidden = true;
    $('page').hidden = false;
    if (r.page === 'domains') p = domains(seq);
    else if (r.page === 'domain') p = detail(seq, r.arg || '-');
    else if (r.page === 'reports') p = reports(seq);
    else if (r.page === 'health') p = health(seq);
    else p = overview(seq);
    return p.then(function () {
      if (seq !== renderSeq) return;
      document.body.setAttribute('data-ready', r.page);
      var now = new Date();
      $('foot-status').textContent = 'updated ' + now.toISOString().slice(11, 19) + ' UTC';
    }).catch(function (e) {
      if (seq !== renderSeq) return;
      if (e.message !== 'authentication required') notice(e.message, true);
      document.body.setAttribute('data-ready', 'error');
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('#range > button').forEach(function (b) {
      b.addEventListener('click', function () {
        var v = b.getAttribute('data-range');
        if (v === 'custom') {
          $('custom').hidden = false;
          if (!$('from').value) {
            var t = new Date(), f = new Date(t.getTime() - 29 * 86400000);
            $('from').value = f.toISOString().slice(0, 10);
            $('to').value = t.toISOString().slice(0, 10);
          }
          $('from').focus();
          return;
        }
        setParams({ range: v, from: '', to: '', page: '' });
      });
    });
    $('custom').addEventListener('submit', function (ev) {
      ev.preventDefault();
      setParams({ range: '', from: $('from').value, to: $('to').value, page: '' });
    });
    $('login').addEventListener('submit', function (ev) {
      ev.preventDefault();
      try { sessionStorage.setItem('tlsflow-token', $('token').value); } catch (e) { /* private mode */ }
      $('login-error').hidden = true;
      render();
    });
    window.addEventListener('hashchange', function () { render(); });
    /* The banner (web_banner, e.g. "sample data") and the version. */
    api('health').then(function (d) {
      banner(d.banner);
      $('foot-version').textContent = 'tlsflow ' + d.server.version;
    }).catch(function () { /* shown by the page's own request */ });
    setInterval(function () {
      var pg = route().page;
      if (document.visibilityState === 'visible' && (pg === 'overview' || pg === 'health')) render(true);
    }, REFRESH_MS);
    render();
  });
})();
