// The storefront: a small shop on pg_personalize, node's own http module and
// the pg driver. Pages are rendered here from the extension's serving
// functions; the same personal data is a JSON API (openapi.yaml) for a
// shop's own front end. Events are queued and written in batches, never on
// the page's path. docs/storefront.md maps each endpoint to its SQL.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { Pool } = require('pg');

const PORT = Number(process.env.STOREFRONT_PORT || 8080);
// The demo shop's data ends on this day; the refreshed models and buy_again use it as "now".
const DATA_AS_OF = process.env.STOREFRONT_AS_OF || '2026-01-01';
const pool = new Pool({ max: Number(process.env.STOREFRONT_POOL || 10) });
pool.on('error', (e) => console.error('pg pool:', e.message));

// ---------------------------------------------------------------- validation
class BadRequest extends Error {}
const MAX_ID = 9007199254740991;
function id(value, name, { optional = false } = {}) {
  if (value === undefined || value === null || value === '') {
    if (optional) return null;
    throw new BadRequest(`"${name}" is required`);
  }
  const s = String(value);
  if (!/^[0-9]{1,16}$/.test(s) || Number(s) < 1 || Number(s) > MAX_ID) {
    throw new BadRequest(`"${name}" must be a positive integer, got ${JSON.stringify(s.slice(0, 40))}`);
  }
  return Number(s);
}
function count(value, name, dflt, max) {
  if (value === undefined || value === null || value === '') return dflt;
  const s = String(value);
  if (!/^[0-9]{1,4}$/.test(s) || Number(s) < 1 || Number(s) > max) {
    throw new BadRequest(`"${name}" must be an integer between 1 and ${max}, got ${JSON.stringify(s.slice(0, 40))}`);
  }
  return Number(s);
}
const CHANNELS = ['web', 'app', 'exit', 'email', 'product_page'];
function channel(value) {
  if (value === undefined || value === null) return 'web';
  if (!CHANNELS.includes(value)) throw new BadRequest(`"channel" must be one of ${CHANNELS.join(', ')}`);
  return value;
}
// A cart in a request: {"items": [{"product_id": 3, "quantity": 1}, ...]} or [3, 8].
function cartItems(value, name = 'items') {
  if (!Array.isArray(value)) throw new BadRequest(`"${name}" must be an array`);
  if (value.length > 100) throw new BadRequest(`"${name}" has more than 100 entries`);
  return value.map((x, i) => {
    if (typeof x === 'object' && x !== null) {
      return { product_id: id(x.product_id, `${name}[${i}].product_id`),
               quantity: count(x.quantity, `${name}[${i}].quantity`, 1, 99) };
    }
    return { product_id: id(x, `${name}[${i}]`), quantity: 1 };
  });
}
const EVENT_TYPES = ['page_view', 'add_to_cart', 'exit_intent'];

// ------------------------------------------------------------------ sessions
// In memory: a reference shop would keep these in its own session store.
const sessions = new Map();
function newSessionId() { return 1000000000 + crypto.randomInt(0, 2 ** 47); }
function session(req, res) {
  const m = /(?:^|;\s*)sid=([0-9]{10,16})/.exec(req.headers.cookie || '');
  let s = m && sessions.get(m[1]);
  if (!s) {
    const sid = String(newSessionId());
    s = { id: sid, customerId: null, cart: new Map(), startedAt: Date.now(), pages: 0, exitShown: false, banner: undefined };
    sessions.set(sid, s);
    res.setHeader('Set-Cookie', `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
  }
  s.lastSeen = Date.now();
  return s;
}
// Sessions idle for two hours are forgotten (checked every ten minutes).
const sweeper = setInterval(() => {
  const cutoff = Date.now() - 2 * 3600 * 1000;
  for (const [k, v] of sessions) if (v.lastSeen < cutoff) sessions.delete(k);
}, 600 * 1000);
sweeper.unref();
// decide_offer needs a customer id: a visitor who has not signed in is
// decided as the session's id (no orders, and a fixed holdout draw).
const decisionId = (s) => s.customerId || Number(s.id);

// -------------------------------------------------------------------- events
// Queued here, written by one INSERT of arrays every 100 ms (or at 1000).
const queue = [];
let eventsAccepted = 0, eventsWritten = 0, eventsFailed = 0, flushing = false;
function track(s, type, productId = null) {
  queue.push([Number(s.id), s.customerId, new Date().toISOString(), type, productId]);
  eventsAccepted++;
  if (queue.length >= 1000) flush();
}
async function flush() {
  if (flushing || queue.length === 0) return;
  flushing = true;
  const batch = queue.splice(0, queue.length);
  try {
    await pool.query(
      `INSERT INTO shop.events (session_id, customer_id, event_at, event_type, product_id)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::bigint[])`,
      [batch.map((e) => e[0]), batch.map((e) => e[1]), batch.map((e) => e[2]), batch.map((e) => e[3]),
       batch.map((e) => e[4])]);
    eventsWritten += batch.length;
  } catch (e) {
    eventsFailed += batch.length;
    console.error('event batch failed:', e.message);
  } finally {
    flushing = false;
  }
  if (queue.length >= 1000) flush();
}
const flusher = setInterval(flush, 100);

// ------------------------------------------------------------------- queries
const q = async (sql, params = []) => (await pool.query(sql, params)).rows;
let contextSql = null;  // the one-customer context query decide_offer builds (cached)
async function offerContext(customerId, cart, sess) {
  if (!contextSql) contextSql = (await q('SELECT personalize.offer_context_query(true) AS sql'))[0].sql;
  return (await q(contextSql, [customerId, cart, sess]))[0].jsonb_build_object;
}
// The non-personal, model-derived lists (a product's complements and "also
// bought", the best sellers) change only when the models are refreshed:
// they are cached per product and n, keyed by the latest refresh run
// (personalize.refresh_runs, checked at most once a second by one index
// lookup; a new run or a running one finishing empties the cache). Entries
// also expire after 60 s, so a product's name or price changed without a
// refresh shows within a minute. Trending (time-decayed from the live
// events) is cached for 5 s. Nothing personal is cached (recently viewed,
// offers, a customer's picks, the cart). Concurrent misses share one query.
const CACHE_MAX_AGE = 60 * 1000, TRENDING_MAX_AGE = 5 * 1000, CACHE_MAX_ENTRIES = 10000;
const modelCache = new Map();  // key -> { at, value: Promise }
let modelRun = null, modelRunCheckedAt = 0, modelRunCheck = null, cacheHits = 0, cacheMisses = 0;
function checkModelRun() {
  if (Date.now() - modelRunCheckedAt < 1000) return null;
  if (!modelRunCheck) {
    modelRunCheck = q(`SELECT run_id, finished_at FROM personalize.refresh_runs ORDER BY run_id DESC LIMIT 1`)
      .then((r) => {
        const run = r.length ? `${r[0].run_id}:${r[0].finished_at ? r[0].finished_at.toISOString() : 'running'}` : 'none';
        if (run !== modelRun) { modelCache.clear(); modelRun = run; }
        modelRunCheckedAt = Date.now();
      })
      .finally(() => { modelRunCheck = null; });
  }
  return modelRunCheck;
}
async function cached(key, maxAge, fill) {
  await checkModelRun();
  const now = Date.now(), e = modelCache.get(key);
  if (e && now - e.at < maxAge) { cacheHits++; return e.value; }
  cacheMisses++;
  if (modelCache.size >= CACHE_MAX_ENTRIES) modelCache.clear();  // unknown ids asked for in bulk
  const entry = { at: now, value: fill() };
  modelCache.set(key, entry);
  entry.value.catch(() => { if (modelCache.get(key) === entry) modelCache.delete(key); });
  return entry.value;
}
async function products(ids) {
  if (ids.length === 0) return new Map();
  const rows = await q('SELECT product_id, name, category, price FROM shop.products WHERE product_id = ANY($1::bigint[])', [ids]);
  return new Map(rows.map((r) => [Number(r.product_id), r]));
}
async function cartJson(s) {
  const ids = [...s.cart.keys()];
  const p = await products(ids);
  let total = 0, lines = [];
  for (const [pid, qty] of s.cart) {
    const prod = p.get(pid);
    if (!prod) continue;
    total += Number(prod.price) * qty;
    lines.push({ product: prod, quantity: qty });
  }
  total = Math.round(total * 100) / 100;
  return { lines, json: { total, items: lines.map((l) => Number(l.product.product_id)), count: lines.reduce((a, l) => a + l.quantity, 0) } };
}
const sessionJson = (s, extra = {}) => ({ id: s.id, pages_viewed: s.pages, ...extra });
async function decide(customerId, cart, sess, chan) {
  return q(`SELECT offer_key, description, percent_off, free_shipping, reason
            FROM personalize.decide_offer($1, $2::jsonb, $3::jsonb, $4)`, [customerId, cart, sess, chan]);
}
async function hasOrders(customerId) {
  if (!customerId) return false;
  const r = await q('SELECT orders FROM personalize.customer_profile($1)', [customerId]);
  return r.length > 0 && Number(r[0].orders) > 0;
}
async function suggestionsFor(customerId, n) {
  if (customerId === null) return cached(`best:${n}`, CACHE_MAX_AGE, () => suggestionsQuery(null, n));  // the best sellers
  return suggestionsQuery(customerId, n);
}
function suggestionsQuery(customerId, n) {
  return q(`SELECT s.rank, s.item_id, s.source, s.because, p.name, p.price, p.category
            FROM personalize.suggestions($1::bigint, $2::integer) s JOIN shop.products p ON p.product_id = s.item_id
            ORDER BY s.rank`, [customerId, n]);
}
function trending(n) {
  return cached(`trending:${n}`, TRENDING_MAX_AGE, () => q(`SELECT t.product_id AS item_id, t.score, t.views, t.carts, p.name, p.price, p.category
            FROM personalize.trending_items('1 day', $1) t JOIN shop.products p USING (product_id)
            ORDER BY t.score DESC, t.product_id`, [n]));
}
function complements(productId, n) {
  return cached(`complements:${productId}:${n}`, CACHE_MAX_AGE, () => q(`SELECT c.complement AS item_id, c.confidence, c.lift, p.name, p.price
            FROM personalize.product_complements($1::bigint, $2::integer) c JOIN shop.products p ON p.product_id = c.complement
            ORDER BY c.confidence DESC, c.complement`, [productId, n]));
}
function alsoBought(productId, n) {
  return cached(`also:${productId}:${n}`, CACHE_MAX_AGE, () => q(`SELECT s.neighbour AS item_id, s.score, p.name, p.price
            FROM personalize.item_similarities s JOIN shop.products p ON p.product_id = s.neighbour
            WHERE s.item = $1 ORDER BY s.score DESC, s.neighbour LIMIT $2`, [productId, n]));
}
async function crossSell(items, n) {
  return q(`SELECT c.item AS item_id, c.score, c.source, p.name, p.price
            FROM personalize.cart_suggestions($1::bigint[], $2::integer) c JOIN shop.products p ON p.product_id = c.item
            ORDER BY c.score DESC, c.item`, [items, n]);
}
async function recentlyViewed(s, n) {
  return q(`SELECT r.product_id AS item_id, r.viewed_at, p.name, p.price
            FROM personalize.recently_viewed($1, $2, $3) r JOIN shop.products p USING (product_id)
            ORDER BY r.viewed_at DESC, r.product_id`, [s.customerId, s.id, n]);
}
async function buyAgain(customerId, n) {
  return q(`SELECT b.rank, b.item_id, b.purchases, round(b.due_in_days::numeric) AS due_in_days, p.name, p.price
            FROM personalize.buy_again($1, 'shop.purchases', $2, $3::timestamptz) b
            JOIN shop.products p ON p.product_id = b.item_id ORDER BY b.rank`, [customerId, n, DATA_AS_OF]);
}
// The campaign e-mail of a customer: what examples/campaign/export.py sends.
async function emailPreview(customerId) {
  const ctx = await offerContext(customerId, {}, {});
  const offers = await q(`SELECT offer_key, description, reason FROM personalize.eligible_offers($1::jsonb, 'email')`, [ctx]);
  const picks = await suggestionsFor(customerId, 4);
  return { context: ctx, offers, picks };
}
// The session's purchase propensity from its events and the customer's history.
async function propensity(s, cart) {
  const r = await q(
    `SELECT personalize.session_propensity($1, $2, $3::float8, $4::float8, true, $5,
                                          coalesce(p.orders, 0)::integer, p.days_since_last_order::float8) AS p
     FROM (SELECT 1) x LEFT JOIN personalize.customer_profile($6) p ON true`,
    [Math.max(s.pages, 1), cart.count, cart.total, (Date.now() - s.startedAt) / 1000, s.customerId !== null,
     s.customerId]);
  return r[0].p === null ? null : Number(r[0].p);
}
async function exitIntent(s) {
  if (s.exitShown) return { offer: null, propensity: null, already_shown: true, reason: 'an exit offer was already shown in this session' };
  track(s, 'exit_intent');
  const cart = (await cartJson(s)).json;
  const p = await propensity(s, cart);
  const sess = sessionJson(s, { exit_intent: true, offer_shown: false, propensity: p });
  const offers = await decide(decisionId(s), cart, sess, 'exit');
  if (offers.length > 0) s.exitShown = true;
  return { offer: offers[0] || null, propensity: p, reason: offers.length ? offers[0].reason : 'no exit offer applies' };
}

// ------------------------------------------------------------------ HTML bits
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const money = (v) => `£${Number(v).toFixed(2)}`;
function layout(s, title, body, { exit = false } = {}) {
  const who = s.customerId
    ? `signed in as customer <b data-customer="${s.customerId}">${s.customerId}</b> · <a href="/account">Account</a> · <a href="/signout">Sign out</a>`
    : `<form method="post" action="/signin" class="signin"><input name="customer_id" placeholder="customer id" size="9"><button>Sign in</button></form>`;
  const items = [...s.cart.values()].reduce((a, b) => a + b, 0);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Demo shop</title><link rel="stylesheet" href="/static/shop.css"></head>
<body><header><a href="/" class="logo">Demo shop</a> <nav><a href="/">Home</a> · <a href="/cart" id="cart-link">Cart (${items})</a> · <a href="/insights">Insights</a></nav><span class="who">${who}</span></header>
<main>${body}</main>
<div id="exit-overlay" hidden><div class="box"><h2>Wait!</h2><p id="exit-text"></p><button id="exit-close">Continue shopping</button></div></div>
${exit ? '<script src="/static/exit.js" defer></script>' : ''}
</body></html>`;
}
function tiles(list, id, title, note = (x) => '') {
  if (list.length === 0) return `<section id="${id}"><h2>${esc(title)}</h2><p class="empty">Nothing yet.</p></section>`;
  return `<section id="${id}"><h2>${esc(title)}</h2><ul class="tiles">${list.map((x) => `<li data-product="${x.item_id}"><a href="/product/${x.item_id}">${esc(x.name)}</a><span class="price">${money(x.price)}</span><small>${note(x)}</small></li>`).join('')}</ul></section>`;
}

// --------------------------------------------------------------------- pages
async function home(s) {
  let banner = '';
  if (!(await hasOrders(s.customerId))) {
    // The first-visit banner: what decide_offer gives this visitor on a
    // first order of £30 (the offer's threshold); decided once per session.
    if (s.banner === undefined) {
      const d = await decide(decisionId(s), { total: 30, items: [] }, sessionJson(s), 'web');
      s.banner = d.find((o) => o.offer_key === 'first_order') || null;
    }
    if (s.banner) banner = `<div id="banner" data-offer="${esc(s.banner.offer_key)}"><b>Welcome!</b> ${esc(s.banner.description)}</div>`;
  }
  let body;
  if (s.customerId) {
    const picks = await suggestionsFor(s.customerId, 8);
    body = tiles(picks, 'picks', 'Picked for you', (x) => x.source === 'popular' ? 'popular in your segment' : 'because you bought similar');
  } else {
    const t = await trending(8);
    const best = await suggestionsFor(null, 8);
    body = tiles(t, 'trending', 'Trending now', (x) => `${x.views} views, ${x.carts} carts`) + tiles(best, 'bestsellers', 'Best sellers');
  }
  return layout(s, 'Home', banner + body, { exit: true });
}
async function productPage(s, productId) {
  const p = (await products([productId])).get(productId);
  if (!p) {
    return { status: 404, html: layout(s, 'Not found', `<h1>Product not found</h1><p id="not-found">We have no product ${productId}. <a href="/">Back to the shop</a></p>`) };
  }
  s.pages++;
  const [comp, also, recent] = await Promise.all([complements(productId, 4), alsoBought(productId, 4), recentlyViewed(s, 7)]);
  track(s, 'page_view', productId);
  const body = `<article id="product" data-product="${productId}"><h1>${esc(p.name)}</h1><p class="cat">${esc(p.category)}</p>
<p class="price big">${money(p.price)}</p>
<form method="post" action="/cart/add"><input type="hidden" name="product_id" value="${productId}"><button id="add-to-cart">Add to cart</button></form></article>
${tiles(comp, 'complements', 'Goes well with', (x) => `${Math.round(x.confidence * 100)}% of buyers add it`)}
${tiles(also, 'also-bought', 'Customers also bought')}
${tiles(recent.filter((r) => Number(r.item_id) !== productId).slice(0, 6), 'recently-viewed', 'Recently viewed')}`;
  return { status: 200, html: layout(s, p.name, body, { exit: true }) };
}
async function cartPage(s) {
  s.pages++;
  const { lines, json } = await cartJson(s);
  let body = `<h1>Your cart</h1>`;
  if (lines.length === 0) {
    body += `<p id="cart-empty">Your cart is empty.</p>`;
  } else {
    body += `<table id="cart-lines"><tr><th>Product</th><th>Qty</th><th>Price</th><th></th></tr>${lines.map((l) => `<tr data-product="${l.product.product_id}"><td><a href="/product/${l.product.product_id}">${esc(l.product.name)}</a></td><td>${l.quantity}</td><td>${money(l.product.price * l.quantity)}</td><td><form method="post" action="/cart/remove"><input type="hidden" name="product_id" value="${l.product.product_id}"><button>remove</button></form></td></tr>`).join('')}</table>
<p class="total">Total <b id="cart-total">${money(json.total)}</b></p>`;
    const offers = await decide(decisionId(s), json, sessionJson(s), 'web');
    body += offers.length
      ? `<div id="offer" data-offer="${esc(offers[0].offer_key)}"><b>${esc(offers[0].description)}</b> <a id="why" href="/cart/why?offer=${encodeURIComponent(offers[0].offer_key)}">why this price?</a></div>`
      : `<div id="offer" data-offer=""><span>No offer applies to this cart.</span> <a id="why" href="/cart/why?offer=first_order">why no discount?</a></div>`;
    body += tiles(await crossSell(json.items, 4), 'cross-sell', 'Complete your order');
  }
  return layout(s, 'Cart', body, { exit: true });
}
async function whyPage(s, offerKey) {
  if (!/^[a-z0-9_]{1,64}$/.test(offerKey || '')) throw new BadRequest('"offer" must be an offer key');
  if ((await q('SELECT 1 FROM personalize.offers WHERE offer_key = $1', [offerKey])).length === 0) {
    return { status: 404, html: layout(s, 'Not found', `<h1>No such offer</h1><p id="no-offer">There is no offer ${esc(offerKey)}. <a href="/cart">Back to the cart</a></p>`) };
  }
  const { json } = await cartJson(s);
  const ctx = await offerContext(decisionId(s), json, sessionJson(s));
  const rows = await q(`SELECT step, "check", condition, value, result FROM personalize.explain_offer($1, $2::jsonb, 'web') ORDER BY step`, [offerKey, ctx]);
  const body = `<h1>Why this price?</h1><p>The checks of offer <b id="why-offer">${esc(offerKey)}</b> for your cart of ${money(json.total)}:</p>
<table id="explain"><tr><th>check</th><th>condition</th><th>seen</th><th>result</th></tr>${rows.map((r) => `<tr class="${esc(r.result)}"><td>${esc(r.check)}</td><td>${esc(r.condition)}</td><td>${esc(r.value)}</td><td>${esc(r.result)}</td></tr>`).join('')}</table>
<p><a href="/cart">Back to the cart</a></p>`;
  return { status: 200, html: layout(s, 'Why this price?', body) };
}
async function accountPage(s) {
  if (!s.customerId) return layout(s, 'Account', `<h1>Account</h1><p id="signed-out">Sign in to see your account.</p>`);
  const c = s.customerId;
  const [profile, again, picks, mail] = await Promise.all([
    q('SELECT lifecycle_stage, segment, orders, round(clv::numeric, 2) AS clv, days_since_last_order FROM personalize.customer_profile($1)', [c]),
    buyAgain(c, 6), suggestionsFor(c, 6), emailPreview(c)]);
  const pr = profile[0];
  const winBack = mail.offers.find((o) => o.offer_key === 'win_back');
  const body = `<h1>Your account</h1>
${pr ? `<p id="profile" data-stage="${esc(pr.lifecycle_stage)}">Customer ${c} · ${esc(pr.segment)} · ${pr.orders} orders · last order ${pr.days_since_last_order === null ? '–' : Math.round(pr.days_since_last_order)} days before ${DATA_AS_OF}</p>` : `<p id="profile" data-stage="">Customer ${c}: no orders yet.</p>`}
${winBack ? `<div id="win-back" data-offer="win_back"><b>We miss you!</b> ${esc(winBack.description)}</div>` : ''}
${tiles(again, 'buy-again', 'Buy again', (x) => `bought ${x.purchases} times`)}
${tiles(picks, 'picked', 'Picked for you')}
<section id="email-preview"><h2>Your next e-mail (preview of the campaign)</h2><div class="mail">
<p>Hello customer ${c},</p>${mail.offers.length ? `<ul id="email-offers">${mail.offers.map((o) => `<li data-offer="${esc(o.offer_key)}">${esc(o.description)}</li>`).join('')}</ul>` : '<p>No offers this week.</p>'}
<p>You might like:</p><ul id="email-picks">${mail.picks.map((p) => `<li data-product="${p.item_id}">${esc(p.name)} – ${money(p.price)}</li>`).join('')}</ul></div></section>`;
  return layout(s, 'Account', body, { exit: true });
}

// ------------------------------------------------------------ insights (SVG)
function barChart(data, { width = 560, left = 170, barH = 22, label = (d) => d.label, value = (d) => d.value, fmt = (v) => String(v) } = {}) {
  const max = Math.max(1, ...data.map(value));
  const h = data.length * (barH + 6) + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" role="img">${data.map((d, i) => {
    const w = Math.round((value(d) / max) * (width - left - 70));
    const y = 5 + i * (barH + 6);
    return `<text x="${left - 6}" y="${y + barH * 0.7}" text-anchor="end" font-size="12">${esc(label(d))}</text><rect x="${left}" y="${y}" width="${w}" height="${barH}" fill="#3b7dd8"/><text x="${left + w + 4}" y="${y + barH * 0.7}" font-size="12">${esc(fmt(value(d)))}</text>`;
  }).join('')}</svg>`;
}
function intervalChart(rows, width = 560) {
  // Conversion uplift per offer with its 95 % interval; the line at 0 is "no effect".
  const lo = Math.min(-0.01, ...rows.map((r) => r.lo)), hi = Math.max(0.01, ...rows.map((r) => r.hi));
  const left = 170, span = width - left - 20, x = (v) => left + ((v - lo) / (hi - lo)) * span;
  const h = rows.length * 28 + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" role="img"><line x1="${x(0)}" y1="0" x2="${x(0)}" y2="${h - 20}" stroke="#999" stroke-dasharray="3"/>${rows.map((r, i) => {
    const y = 14 + i * 28;
    return `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="12">${esc(r.offer_key)}</text><line x1="${x(r.lo)}" y1="${y}" x2="${x(r.hi)}" y2="${y}" stroke="#d83b3b" stroke-width="2"/><circle cx="${x(r.uplift)}" cy="${y}" r="4" fill="#d83b3b"/>`;
  }).join('')}<text x="${x(0)}" y="${h - 5}" font-size="11" text-anchor="middle">0</text></svg>`;
}
async function insights() {
  const [segs, moves, clv, uplift, rules] = await Promise.all([
    q(`SELECT coalesce(segment, '(none)') AS label, count(*)::int AS value FROM personalize.customer_profiles GROUP BY 1 ORDER BY 2 DESC, 1`),
    q(`SELECT previous_segment AS "from", segment AS "to", count(*)::int AS customers FROM personalize.customer_profiles
       WHERE previous_segment IS NOT NULL AND previous_segment IS DISTINCT FROM segment GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10`),
    q(`SELECT CASE WHEN clv < 50 THEN '£0–50' WHEN clv < 100 THEN '£50–100' WHEN clv < 200 THEN '£100–200'
                   WHEN clv < 500 THEN '£200–500' ELSE '£500+' END AS label, count(*)::int AS value, min(clv) AS lo
       FROM personalize.customer_profiles WHERE clv IS NOT NULL GROUP BY 1 ORDER BY min(clv)`),
    q(`SELECT offer_key, treatment_customers::int, treatment_conversion, holdout_customers::int, holdout_conversion,
              conversion_uplift, p_value FROM personalize.offer_uplift() ORDER BY offer_key`),
    q(`SELECT r.antecedent, r.consequent, r.confidence, r.lift, r.count, a.name AS a_name, c.name AS c_name
       FROM personalize.product_rules r JOIN shop.products c ON c.product_id = r.consequent
       JOIN shop.products a ON a.product_id = r.antecedent[1]
       WHERE cardinality(r.antecedent) = 1 ORDER BY r.lift * r.confidence DESC, r.antecedent, r.consequent LIMIT 10`)]);
  const up = uplift.map((r) => {
    const n1 = r.treatment_customers, n2 = r.holdout_customers, p1 = r.treatment_conversion ?? 0, p2 = r.holdout_conversion ?? 0;
    const se = n1 > 0 && n2 > 0 ? Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2) : 0;
    const u = p1 - p2;
    return { ...r, uplift: u, lo: u - 1.96 * se, hi: u + 1.96 * se };
  });
  const pct = (v) => v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`;
  return { segs, moves, clv, up, rules, html: `<h1>Insights</h1>
<section id="segments"><h2>Segment sizes</h2>${barChart(segs)}</section>
<section id="moves"><h2>Moves between segments since the last snapshot</h2>${moves.length ? `<table><tr><th>from</th><th>to</th><th>customers</th></tr>${moves.map((m) => `<tr><td>${esc(m.from)}</td><td>${esc(m.to)}</td><td>${m.customers}</td></tr>`).join('')}</table>` : '<p>No moves yet (one snapshot).</p>'}</section>
<section id="clv"><h2>CLV distribution (12 months)</h2>${barChart(clv)}</section>
<section id="uplift"><h2>Uplift: treatment vs holdout (95 % interval of the conversion difference)</h2>${up.length ? intervalChart(up) + `<table><tr><th>offer</th><th>treatment</th><th>holdout</th><th>uplift</th><th>95 % interval</th><th>p</th></tr>${up.map((r) => `<tr data-offer="${esc(r.offer_key)}"><td>${esc(r.offer_key)}</td><td>${r.treatment_customers} · ${pct(r.treatment_conversion)}</td><td>${r.holdout_customers} · ${pct(r.holdout_conversion)}</td><td>${pct(r.uplift)}</td><td>${pct(r.lo)} … ${pct(r.hi)}</td><td>${r.p_value === null ? '–' : Number(r.p_value).toFixed(3)}</td></tr>`).join('')}</table>` : '<p>No decisions logged yet.</p>'}</section>
<section id="rules"><h2>Best rules (lift × confidence)</h2>${barChart(rules, { width: 760, left: 330, label: (r) => `${r.a_name} → ${r.c_name}`, value: (r) => r.lift * r.confidence, fmt: (v) => v.toFixed(2) })}</section>` };
}

// ------------------------------------------------------------------- static
const CSS = `body{font-family:system-ui,sans-serif;margin:0;color:#222}header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}header a{color:#fff}.logo{font-weight:bold;font-size:1.2em;text-decoration:none}.who{margin-left:auto}main{padding:10px 20px;max-width:1000px}
#banner{background:#ffd166;padding:12px;border-radius:6px;margin:10px 0}#win-back,#offer{background:#caf0f8;padding:10px;border-radius:6px;margin:10px 0}
.tiles{display:flex;flex-wrap:wrap;gap:10px;list-style:none;padding:0}.tiles li{border:1px solid #ddd;border-radius:6px;padding:8px;width:170px;display:flex;flex-direction:column;gap:4px}.price{font-weight:bold}.big{font-size:1.5em}small{color:#666}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}tr.fail td{color:#b00}.mail{border:1px dashed #999;padding:10px;max-width:560px}
#exit-overlay{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}#exit-overlay[hidden]{display:none}#exit-overlay .box{background:#fff;padding:24px;border-radius:8px;max-width:400px}`;
// Exit intent: the pointer leaving through the top of the viewport; on a
// touch screen (no pointer to leave) a fast scroll up — back towards the
// address bar, at least 250 px at 1.5 px/ms or faster within 300 ms — or
// the tab losing focus (hidden, or the window blurred: switching apps or
// tabs). The backend decides; the overlay shows at most once per session
// (sessionStorage here, and the backend refuses a second one).
const EXIT_JS = `(function(){
  var done = sessionStorage.getItem('exitShown') === '1';
  var touch = ('ontouchstart' in window) || navigator.maxTouchPoints > 0;
  function fire(how){
    if (done) return; done = true;
    fetch('/api/exit-intent', {method:'POST', headers:{'content-type':'application/json'}, body: JSON.stringify({trigger: how})})
      .then(function(r){ return r.json(); }).then(function(d){
        // No offer now (the cart may change): a later exit intent asks again, unless one was shown.
        if (!d.offer) { done = !!d.already_shown; return; }
        sessionStorage.setItem('exitShown', '1');
        document.getElementById('exit-text').textContent = d.offer.description;
        var o = document.getElementById('exit-overlay'); o.dataset.offer = d.offer.offer_key; o.dataset.trigger = how; o.hidden = false;
      }).catch(function(){ done = false; });
  }
  document.addEventListener('mouseout', function(e){ if (!e.relatedTarget && e.clientY <= 0) fire('pointer'); });
  // The scroll positions of the last 300 ms: a swipe fires many scroll events of a few px each.
  var samples = [];
  window.addEventListener('scroll', function(){
    if (!touch) return;
    var now = performance.now(), y = window.scrollY;
    samples.push([now, y]);
    while (samples.length && now - samples[0][0] > 300) samples.shift();
    var up = samples[0][1] - y, dt = Math.max(now - samples[0][0], 1);
    if (up >= 250 && up / dt >= 1.5) fire('scroll');
  }, {passive: true});
  // Following a link or submitting a form also hides the page (and may blur
  // it) as it unloads: that is browsing, not leaving. beforeunload comes first.
  var unloading = false;
  window.addEventListener('beforeunload', function(){ unloading = true; });
  // Back from the back/forward cache: the page lives again. (Not the first pageshow, which
  // can come after beforeunload when a link is followed before the page has loaded.)
  window.addEventListener('pageshow', function(e){ if (e.persisted) unloading = false; });
  // A navigation that skipped beforeunload still ends in pagehide: the trigger waits one task,
  // which never runs in an unloaded page, and is dropped if pagehide came meanwhile.
  window.addEventListener('pagehide', function(e){ if (!e.persisted) unloading = true; });
  function soon(how){ setTimeout(function(){ if (!unloading) fire(how); }, 0); }
  document.addEventListener('visibilitychange', function(){ if (touch && !unloading && document.visibilityState === 'hidden') soon('hidden'); });
  window.addEventListener('blur', function(){ if (touch && !unloading) soon('blur'); });
  document.getElementById('exit-close').addEventListener('click', function(){ document.getElementById('exit-overlay').hidden = true; });
})();`;

// ------------------------------------------------------------------- routing
function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    let size = 0; const chunks = [];
    req.on('data', (c) => { size += c.length; if (size > limit) { reject(new BadRequest('request body too large')); req.destroy(); } else chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
async function jsonBody(req) {
  const text = await readBody(req);
  if (text === '') return {};
  let v;
  try { v = JSON.parse(text); } catch { throw new BadRequest('the body is not valid JSON'); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest('the body must be a JSON object');
  return v;
}
async function formBody(req) { return Object.fromEntries(new URLSearchParams(await readBody(req))); }
const send = (res, status, type, body) => { res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }); res.end(body); };
const html = (res, body, status = 200) => send(res, status, 'text/html; charset=utf-8', body);
const json = (res, body, status = 200) => send(res, status, 'application/json', JSON.stringify(body));
const redirect = (res, to) => { res.writeHead(303, { location: to }); res.end(); };

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname, m = req.method, p = url.searchParams;
  if (path === '/static/shop.css') return send(res, 200, 'text/css', CSS);
  if (path === '/static/exit.js') return send(res, 200, 'text/javascript', EXIT_JS);
  if (path === '/health') return json(res, { ok: true });
  if (path === '/api/stats') { await flush(); return json(res, { events_accepted: eventsAccepted, events_written: eventsWritten, events_failed: eventsFailed, events_queued: queue.length, cache_hits: cacheHits, cache_misses: cacheMisses, model_run: modelRun }); }
  const s = session(req, res);

  // Pages.
  if (m === 'GET' && path === '/') return html(res, await home(s));
  let pm;
  if (m === 'GET' && (pm = /^\/product\/([^/]+)$/.exec(path))) {
    const r = await productPage(s, id(pm[1], 'product id'));
    return html(res, r.html, r.status);
  }
  if (m === 'GET' && path === '/cart') return html(res, await cartPage(s));
  if (m === 'GET' && path === '/cart/why') { const r = await whyPage(s, p.get('offer')); return html(res, r.html, r.status); }
  if (m === 'POST' && path === '/cart/add') {
    const f = await formBody(req);
    const pid = id(f.product_id, 'product_id');
    if ((await products([pid])).size === 0) throw new BadRequest(`no product ${pid}`);
    s.cart.set(pid, Math.min(99, (s.cart.get(pid) || 0) + count(f.quantity, 'quantity', 1, 99)));
    track(s, 'add_to_cart', pid);
    return redirect(res, '/cart');
  }
  if (m === 'POST' && path === '/cart/remove') { s.cart.delete(id((await formBody(req)).product_id, 'product_id')); return redirect(res, '/cart'); }
  if (m === 'POST' && path === '/signin') {
    s.customerId = id((await formBody(req)).customer_id, 'customer_id');
    s.banner = undefined;
    return redirect(res, '/');
  }
  if (m === 'GET' && path === '/signout') { s.customerId = null; s.banner = undefined; return redirect(res, '/'); }
  if (m === 'GET' && path === '/account') return html(res, await accountPage(s));
  if (m === 'GET' && path === '/insights') return html(res, layout(s, 'Insights', (await insights()).html));

  // The JSON API (openapi.yaml).
  if (m === 'POST' && path === '/api/offers/decide') {
    const b = await jsonBody(req);
    const cust = id(b.customer_id, 'customer_id', { optional: true }) ?? decisionId(s);
    const items = cartItems(b.items ?? []);
    const prices = await products(items.map((i) => i.product_id));
    const total = Math.round(items.reduce((a, i) => a + (prices.has(i.product_id) ? Number(prices.get(i.product_id).price) * i.quantity : 0), 0) * 100) / 100;
    const offers = await decide(cust, { total, items: items.map((i) => i.product_id) }, sessionJson(s), channel(b.channel));
    return json(res, { customer_id: cust, cart_total: total, offers });
  }
  if (m === 'GET' && path === '/api/suggestions') {
    const cust = id(p.get('customer_id'), 'customer_id', { optional: true });
    return json(res, { customer_id: cust, suggestions: await suggestionsFor(cust, count(p.get('n'), 'n', 10, 50)) });
  }
  if (m === 'GET' && path === '/api/complements') {
    const pid = id(p.get('product_id'), 'product_id');
    return json(res, { product_id: pid, complements: await complements(pid, count(p.get('n'), 'n', 5, 50)) });
  }
  if (m === 'POST' && path === '/api/cart/suggestions') {
    const b = await jsonBody(req);
    const items = cartItems(b.items ?? []);
    return json(res, { suggestions: await crossSell(items.map((i) => i.product_id), count(b.n, 'n', 5, 50)) });
  }
  if (m === 'GET' && path === '/api/trending') return json(res, { trending: await trending(count(p.get('n'), 'n', 10, 50)) });
  if (m === 'GET' && path === '/api/recently-viewed') return json(res, { recently_viewed: await recentlyViewed(s, count(p.get('n'), 'n', 10, 50)) });
  if (m === 'POST' && path === '/api/events') {
    const b = await jsonBody(req);
    if (!Array.isArray(b.events) || b.events.length === 0 || b.events.length > 100) throw new BadRequest('"events" must be an array of 1 to 100 events');
    const ev = b.events.map((e, i) => {
      if (typeof e !== 'object' || e === null) throw new BadRequest(`"events[${i}]" must be an object`);
      if (!EVENT_TYPES.includes(e.type)) throw new BadRequest(`"events[${i}].type" must be one of ${EVENT_TYPES.join(', ')}`);
      return [e.type, id(e.product_id, `events[${i}].product_id`, { optional: true })];
    });
    for (const [type, pid] of ev) track(s, type, pid);
    return json(res, { accepted: ev.length }, 202);
  }
  if (m === 'POST' && path === '/api/exit-intent') { await jsonBody(req); return json(res, await exitIntent(s)); }
  if (path.startsWith('/api/')) return json(res, { error: `no endpoint ${m} ${path}` }, 404);
  return html(res, layout(s, 'Not found', `<h1>Page not found</h1><p><a href="/">Back to the shop</a></p>`), 404);
}

const server = http.createServer((req, res) => {
  route(req, res).catch((e) => {
    if (e instanceof BadRequest) {
      return req.url.startsWith('/api/') ? json(res, { error: e.message }, 400) : send(res, 400, 'text/plain; charset=utf-8', `Bad request: ${e.message}`);
    }
    console.error(req.method, req.url, e);
    if (!res.headersSent) json(res, { error: 'internal error' }, 500);
  });
});
server.listen(PORT, '127.0.0.1', () => console.log(`storefront listening on http://127.0.0.1:${PORT}/`));
async function stop() {
  clearInterval(flusher);
  server.close();
  await flush();
  await pool.end();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
