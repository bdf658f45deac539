// Load measurement (bench.sh): autocannon against the running storefront,
// 20 concurrent clients for 30 s on the product pages and then on the cart
// page (p50/p95/p99 from every response's time), while a second load posts
// 1,000 events/s to /api/events; afterwards the events are counted in
// shop.events (none may be lost). Prints a Markdown table for BENCHMARKS.md.
'use strict';
const autocannon = require('autocannon');
const { Client } = require('pg');
const base = process.env.STOREFRONT_URL;
const seconds = Number(process.env.BENCH_SECONDS || 30);

function run(opts) {
  return new Promise((resolve, reject) => {
    const times = [];
    const inst = autocannon({ duration: seconds, ...opts }, (err, res) => (err ? reject(err) : resolve({ res, times })));
    inst.on('response', (client, status, bytes, ms) => times.push(ms));
  });
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

(async () => {
  const db = new Client();
  await db.connect();
  // A shopper with a three-item cart (the cart page decides an offer, cross-sells and totals it).
  let r = await fetch(`${base}/`);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const prods = (await db.query(`SELECT r.antecedent[1] AS p FROM personalize.product_rules r
                                 WHERE cardinality(r.antecedent) = 1 GROUP BY 1 ORDER BY sum(r.count) DESC LIMIT 20`)).rows.map((x) => x.p);
  for (const p of prods.slice(0, 3)) {
    await fetch(`${base}/cart/add`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `product_id=${p}`, redirect: 'manual' });
  }
  // The events load posts as one session, so its rows are counted exactly.
  r = await fetch(`${base}/`);
  const eventsCookie = r.headers.get('set-cookie').split(';')[0];
  const eventsSid = eventsCookie.split('=')[1];
  await fetch(`${base}/api/stats`);  // flushes what the setup queued
  await new Promise((r) => setTimeout(r, 500));
  const before = await (await fetch(`${base}/api/stats`)).json();
  const startId = Number((await db.query('SELECT coalesce(max(event_id), 0) AS m FROM shop.events')).rows[0].m);
  const batch = JSON.stringify({ events: Array.from({ length: 10 }, (_, i) => ({ type: 'page_view', product_id: Number(prods[i % prods.length]) })) });
  // 100 requests/s of 10 events each, all run long: through both page loads.
  const events = run({ url: `${base}/api/events`, method: 'POST', body: batch, headers: { 'content-type': 'application/json', cookie: eventsCookie },
                       connections: 4, overallRate: 100, duration: 2 * seconds + 2 });
  // Product pages: each request is a new anonymous visitor (no cookie), cycling 20 products.
  const product = await run({ url: base, connections: 20, requests: prods.map((p) => ({ method: 'GET', path: `/product/${p}` })) });
  const cart = await run({ url: `${base}/cart`, connections: 20, headers: { cookie } });
  const ev = await events;
  await new Promise((r) => setTimeout(r, 1000));  // the last responses and batches
  await fetch(`${base}/api/stats`);
  await new Promise((r) => setTimeout(r, 500));
  const after = await (await fetch(`${base}/api/stats`)).json();
  const sent = ev.res['2xx'] * 10;
  const rows = Number((await db.query('SELECT count(*) AS n FROM shop.events WHERE event_id > $1 AND session_id = $2', [startId, eventsSid])).rows[0].n);
  const allRows = Number((await db.query('SELECT count(*) AS n FROM shop.events WHERE event_id > $1', [startId])).rows[0].n);
  const line = (name, x) => `| ${name} | ${x.res.requests.total} | ${x.res.requests.average.toFixed(0)} | ${pct(x.times, 50).toFixed(1)} | ${pct(x.times, 95).toFixed(1)} | ${pct(x.times, 99).toFixed(1)} | ${x.res.errors + x.res.non2xx} |`;
  console.log(`| page (20 clients, ${seconds} s) | requests | req/s | p50 ms | p95 ms | p99 ms | errors + non-2xx |`);
  console.log('|---|---|---|---|---|---|---|');
  console.log(line('product page', product));
  console.log(line('cart page', cart));
  console.log(line('POST /api/events (10 events, 100/s)', ev));
  const written = after.events_written - before.events_written;
  const accepted = after.events_accepted - before.events_accepted;
  console.log(`\nevents: the events load got ${sent} accepted in the responses autocannon counted over ${2 * seconds + 2} s ` +
              `(${(sent / (2 * seconds + 2)).toFixed(0)}/s; ${rows} of its rows are in shop.events, the difference being requests ` +
              `answered after autocannon stopped counting); with the product pages' views the server accepted ${accepted} events, ` +
              `wrote ${written}, failed ${after.events_failed - before.events_failed}; ${allRows} new rows in shop.events`);
  const lost = accepted - allRows;
  console.log(`events lost: ${lost} (accepted by the server ${accepted} - new rows in shop.events ${allRows})`);
  await db.end();
  process.exit(lost === 0 && product.res.errors + product.res.non2xx + cart.res.errors + cart.res.non2xx === 0 ? 0 : 1);
})();
