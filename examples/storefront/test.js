// The browser test: Debian's chromium, headless, driven by playwright-core,
// clicks through the five use cases as a shopper and checks each page
// against SQL run directly on the same database. One line per check
// (PASS/FAIL), then "N passed, M failed". Run by test.sh inside serve.sh.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Client } = require('pg');

const base = process.env.STOREFRONT_URL;
const shots = process.env.STOREFRONT_SCREENSHOTS_DIR;
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) { passed++; console.log(`PASS ${name}`); } else { failed++; console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`); }
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const show = (a, b) => `page ${JSON.stringify(a)} vs SQL ${JSON.stringify(b)}`;
const ids = (page, sel) => page.$$eval(`${sel} [data-product]`, (els) => els.map((e) => Number(e.dataset.product)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function shot(page, name) { if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true }); }
async function sid(ctx) { return (await ctx.cookies()).find((c) => c.name === 'sid').value; }

(async () => {
  const db = new Client();
  await db.connect();
  const sql = async (text, params = []) => (await db.query(text, params)).rows;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
                                          args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const contextSql = (await sql('SELECT personalize.offer_context_query(true) AS q'))[0].q;
  try {
    // 1. First visit: a visitor outside the first_order control group sees the banner.
    let ctx, page, visitor;
    for (let i = 0; i < 10; i++) {
      ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      page = await ctx.newPage();
      await page.goto(`${base}/`);
      visitor = await sid(ctx);
      const draw = Number((await sql(`SELECT personalize.holdout_draw($1, 'first_order_2026') AS d`, [visitor]))[0].d);
      const banner = await page.$('#banner');
      if (draw < 0.1) {
        check(`first visit: a visitor in the control group (draw ${draw.toFixed(3)}) sees no banner`, banner === null);
        const held = await sql(`SELECT holdout FROM personalize.offer_log WHERE session_id = $1 AND offer_key = 'first_order'`, [visitor]);
        check('first visit: the control-group decision is logged as holdout', held.length === 1 && held[0].holdout === true);
        await ctx.close();
        continue;
      }
      check('first visit: banner with the first-order offer', banner !== null && (await banner.getAttribute('data-offer')) === 'first_order');
      const logged = await sql(`SELECT offer_key, channel, holdout FROM personalize.offer_log WHERE session_id = $1`, [visitor]);
      check('first visit: decide_offer logged the banner decision once (channel web, not holdout)',
            logged.length === 1 && logged[0].offer_key === 'first_order' && logged[0].channel === 'web' && !logged[0].holdout,
            JSON.stringify(logged));
      break;
    }
    const trendPage = await ids(page, '#trending');
    const trendSql = (await sql(`SELECT product_id FROM personalize.trending_items('1 day', 8)`)).map((r) => Number(r.product_id));
    check('home: "trending now" = trending_items(\'1 day\', 8)', trendPage.length === 8 && same(trendPage, trendSql), show(trendPage, trendSql));
    const bestPage = await ids(page, '#bestsellers');
    const bestSql = (await sql(`SELECT item_id FROM personalize.suggestions(NULL::bigint, 8) ORDER BY rank`)).map((r) => Number(r.item_id));
    check('home: best sellers = suggestions(NULL, 8)', bestPage.length === 8 && same(bestPage, bestSql), show(bestPage, bestSql));
    await page.reload();
    check('home: the banner is decided once per session', Number((await sql(`SELECT count(*) AS n FROM personalize.offer_log WHERE session_id = $1`, [visitor]))[0].n) === 1);
    await shot(page, 'home');

    // 2. Product page: complements, also bought, recently viewed.
    const [{ product: prod, other }] = await sql(
      `SELECT r.antecedent[1] AS product, (SELECT min(product_id) FROM shop.products WHERE price >= 60) AS other
       FROM personalize.product_rules r WHERE cardinality(r.antecedent) = 1 ORDER BY r.count DESC, r.antecedent LIMIT 1`);
    await page.goto(`${base}/product/${other}`);
    await sleep(300);  // the page view is written by the next batch (every 100 ms)
    await page.goto(`${base}/product/${prod}`);
    const compPage = await ids(page, '#complements');
    const compSql = (await sql(`SELECT complement FROM personalize.product_complements($1::bigint, 4) ORDER BY confidence DESC, complement`, [prod])).map((r) => Number(r.complement));
    check(`product ${prod}: "goes well with" = product_complements(${prod}, 4)`, compPage.length > 0 && same(compPage, compSql), show(compPage, compSql));
    const alsoPage = await ids(page, '#also-bought');
    const alsoSql = (await sql(`SELECT neighbour FROM personalize.item_similarities WHERE item = $1 ORDER BY score DESC, neighbour LIMIT 4`, [prod])).map((r) => Number(r.neighbour));
    check(`product ${prod}: "customers also bought" = item_similarities`, alsoPage.length > 0 && same(alsoPage, alsoSql), show(alsoPage, alsoSql));
    const recentPage = await ids(page, '#recently-viewed');
    const recentSql = (await sql(`SELECT product_id FROM personalize.recently_viewed(NULL, $1, 7)`, [visitor])).map((r) => Number(r.product_id)).filter((p) => p !== Number(prod));
    check(`product ${prod}: "recently viewed" = recently_viewed(session) (the product seen before: ${other})`,
          same(recentPage, recentSql) && recentPage.includes(Number(other)), show(recentPage, recentSql));
    await shot(page, 'product');
    await sleep(300);
    const views = await sql(`SELECT product_id FROM shop.events WHERE session_id = $1 AND event_type = 'page_view' ORDER BY event_id`, [visitor]);
    check('events: both page views written to shop.events', same(views.map((v) => Number(v.product_id)), [Number(other), Number(prod)]), JSON.stringify(views));

    // 3. Cart: cross-sell, the offer and "why this price?".
    await page.click('#add-to-cart');
    await page.goto(`${base}/product/${other}`);
    await page.click('#add-to-cart');
    await page.waitForSelector('#cart-lines');
    const cartPage = (await ids(page, '#cart-lines')).sort((a, b) => a - b);
    const crossPage = await ids(page, '#cross-sell');
    const crossSql = (await sql(`SELECT item FROM personalize.cart_suggestions($1::bigint[], 4) ORDER BY score DESC, item`, [cartPage])).map((r) => Number(r.item));
    check('cart: cross-sell = cart_suggestions(cart, 4)', crossPage.length > 0 && same(crossPage, crossSql), show(crossPage, crossSql));
    const offerKey = await page.getAttribute('#offer', 'data-offer');
    const lastWeb = await sql(`SELECT offer_key FROM personalize.offer_log WHERE session_id = $1 AND channel = 'web' AND NOT holdout ORDER BY decision_id DESC LIMIT 1`, [visitor]);
    const total = Number((await page.textContent('#cart-total')).replace('£', ''));
    const totalSql = Number((await sql(`SELECT sum(price) AS t FROM shop.products WHERE product_id = ANY($1::bigint[])`, [cartPage]))[0].t);
    check(`cart: total £${total} = the products' prices in SQL`, Math.abs(total - totalSql) < 0.005, `${total} vs ${totalSql}`);
    check(`cart: the offer shown (${offerKey}) is decide_offer's latest logged decision`, lastWeb.length === 1 && lastWeb[0].offer_key === offerKey && offerKey === 'first_order', JSON.stringify(lastWeb));
    await shot(page, 'cart');
    await page.click('#why');
    await page.waitForSelector('#explain');
    const whyRows = await page.$$eval('#explain tr', (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));
    const context = (await sql(contextSql, [visitor, { total: totalSql, items: cartPage, count: 2 }, { id: visitor, pages_viewed: 5 }]))[0].jsonb_build_object;
    const whySql = (await sql(`SELECT "check", condition, value, result FROM personalize.explain_offer($1, $2::jsonb, 'web') ORDER BY step`, [offerKey, context]))
      .map((r) => [r.check, r.condition, r.value, r.result].map((v) => v ?? ''));
    // The validity row shows the evaluation's "now", which differs by a few milliseconds.
    for (const rows of [whyRows, whySql]) for (const r of rows) if (r[0] === 'validity') r[2] = r[2].replace(/now = .*/, 'now');
    check('cart: "why this price?" = explain_offer(offer, the decision\'s context)', whyRows.length > 0 && same(whyRows, whySql), show(whyRows, whySql));
    await shot(page, 'why');

    // 4. Exit intent on a £100+ cart: propensity from the session, decide_offer on channel exit, once per session.
    await page.goto(`${base}/cart`);
    const dear = (await sql(`SELECT product_id FROM shop.products WHERE price >= 50 ORDER BY price DESC, product_id LIMIT 2`)).map((r) => r.product_id);
    for (const p of dear) { await page.goto(`${base}/product/${p}`); await page.click('#add-to-cart'); }
    await page.waitForSelector('#cart-lines');
    const exitTotal = Number((await page.textContent('#cart-total')).replace('£', ''));
    const response = page.waitForResponse((r) => r.url().endsWith('/api/exit-intent'));
    await page.mouse.move(600, 300);
    await page.mouse.move(600, 5, { steps: 5 });
    // The pointer leaves through the top: chromium sends mouseout with no related target.
    await page.evaluate(() => document.dispatchEvent(new MouseEvent('mouseout', { clientX: 600, clientY: -2, relatedTarget: null, bubbles: true })));
    const exit = await (await response).json();
    const p = exit.propensity;
    const overlay = await page.waitForSelector('#exit-overlay:not([hidden])', { timeout: 3000 }).catch(() => null);
    check(`exit intent: £${exitTotal} cart, propensity ${p === null ? 'none' : p.toFixed(3)} < 0.3 -> exit_save overlay`,
          exitTotal >= 100 && p !== null && p < 0.3 && overlay !== null && (await overlay.getAttribute('data-offer')) === 'exit_save',
          JSON.stringify(exit));
    const exitLog = await sql(`SELECT offer_key FROM personalize.offer_log WHERE session_id = $1 AND channel = 'exit'`, [visitor]);
    check('exit intent: decide_offer(channel exit) logged exit_save once', exitLog.length === 1 && exitLog[0].offer_key === 'exit_save', JSON.stringify(exitLog));
    await shot(page, 'exit');
    await page.click('#exit-close');
    await page.evaluate(() => sessionStorage.clear());  // the backend alone must refuse a second overlay
    await page.reload();
    const second = await page.evaluate(() => fetch('/api/exit-intent', { method: 'POST', body: '{}' }).then((r) => r.json()));
    check('exit intent: at most once per session (the backend refuses a second)', second.offer === null && (await sql(`SELECT count(*) AS n FROM personalize.offer_log WHERE session_id = $1 AND channel = 'exit'`, [visitor]))[0].n === '1', JSON.stringify(second));
    await sleep(300);
    const exitEvents = await sql(`SELECT count(*) AS n FROM shop.events WHERE session_id = $1 AND event_type = 'exit_intent'`, [visitor]);
    check('events: the exit intent written once', exitEvents[0].n === '1', JSON.stringify(exitEvents));
    await ctx.close();

    // 4b. Exit intent on a touch screen (no pointer to leave through the top): a fast scroll up,
    // and the tab losing focus. Each in a fresh phone context (hasTouch, isMobile) with a £100+ cart.
    const exitCount = async (sessionId) => Number((await sql(`SELECT count(*) AS n FROM personalize.offer_log WHERE session_id = $1 AND channel = 'exit'`, [sessionId]))[0].n);
    const exitCalls = (calls) => calls.filter((x) => !String(x).startsWith('load '));  // 'load /path': the page (re)loaded
    async function phone() {
      const c = await browser.newContext({ viewport: { width: 390, height: 700 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
      const pg = await c.newPage();
      const calls = [];  // the exit-intent requests the page sends, with their trigger
      pg.on('request', (r) => { if (r.url().endsWith('/api/exit-intent')) calls.push(JSON.parse(r.postData() || '{}').trigger); });
      pg.on('load', () => calls.push(`load ${new URL(pg.url()).pathname}`));
      for (const d of dear) { await pg.goto(`${base}/product/${d}`); await pg.click('#add-to-cart'); }
      await pg.waitForSelector('#cart-lines');
      await pg.goto(`${base}/product/${prod}`);
      return { c, pg, calls, sessionId: await sid(c) };
    }
    const overlayShown = (pg) => pg.$eval('#exit-overlay', (o) => o.hidden ? null : { offer: o.dataset.offer, trigger: o.dataset.trigger });
    {
      const { c, pg, calls, sessionId } = await phone();
      // Real touch input (CDP Input.dispatchTouchEvent, what a finger sends): chromium scrolls the
      // page itself. A finger moving down scrolls up; the steps set the speed (each step is a
      // round trip of a few tens of ms). Input.synthesizeScrollGesture does not scroll in headless mode.
      const cdp = await c.newCDPSession(pg);
      const touchMove = (y) => cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: 195, y }] });
      async function drag(y0, y1, steps, pauseMs) {
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: 195, y: y0 }] });
        for (let i = 1; i <= steps; i++) { await touchMove(y0 + ((y1 - y0) * i) / steps); if (pauseMs) await sleep(pauseMs); }
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
        await sleep(300);  // the fling after the finger lifts
      }
      const swipe = (yDistance, speed) => yDistance < 0 ? drag(650, 650 + yDistance, 10, 0)  // down the page
        : speed === 'slow' ? drag(50, 50 + yDistance, 25, 60) : drag(100, 100 + yDistance, 5, 0);
      const height = await pg.evaluate(() => document.documentElement.scrollHeight);
      await swipe(-600);
      const down = await pg.evaluate(() => window.scrollY);
      await swipe(450, 'slow');  // a slow scroll up (about 300 px/s) is reading, not leaving
      await sleep(500);
      const afterSlow = await pg.evaluate(() => window.scrollY);
      check(`exit intent, touch: browsing (add to cart, pages) and a slow scroll up (${down} -> ${afterSlow} px) send nothing`,
            down >= 400 && down - afterSlow >= 250 && exitCalls(calls).length === 0 && (await exitCount(sessionId)) === 0 && (await overlayShown(pg)) === null,
            JSON.stringify({ height, down, afterSlow, calls }));
      await swipe(-600);
      const response = pg.waitForResponse((r) => r.url().endsWith('/api/exit-intent'), { timeout: 5000 });
      await swipe(380, 'fast');  // a fast one (a few px/ms) back towards the address bar
      const exit = await (await response).json();
      await pg.waitForSelector('#exit-overlay:not([hidden])', { timeout: 3000 }).catch(() => null);
      const shown = await overlayShown(pg);
      check('exit intent, touch: a fast scroll up shows the exit_save overlay',
            shown !== null && shown.offer === 'exit_save' && shown.trigger === 'scroll' && (await exitCount(sessionId)) === 1,
            JSON.stringify({ shown, exit, calls, logged: await exitCount(sessionId) }));
      await shot(pg, 'exit-touch');
      await pg.click('#exit-close');
      await swipe(-600);
      await swipe(380, 'fast');
      await pg.goto(`${base}/`);  // another page of the same session (sessionStorage remembers)
      await swipe(-600);
      await swipe(380, 'fast');
      await sleep(500);
      check('exit intent, touch: at most once per session (fast scrolls up again, on this page and the next, send nothing)',
            same(exitCalls(calls), ['scroll']) && (await overlayShown(pg)) === null && (await exitCount(sessionId)) === 1, JSON.stringify(calls));
      await c.close();
    }
    {
      // The tab losing focus. Headless chromium has no real window focus or tab switching (its pages
      // stay visible and focused), so the test simulates what the browser does on a switch: it
      // overrides document.visibilityState/hidden to "hidden" and dispatches visibilitychange, or
      // dispatches blur on the window. The page's own listeners, fetch and overlay code run unchanged.
      const hide = (pg) => pg.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      const unhide = (pg) => pg.evaluate(() => {
        delete document.visibilityState; delete document.hidden;  // back to the real (visible) state
        document.dispatchEvent(new Event('visibilitychange'));
      });
      let { c, pg, calls, sessionId } = await phone();
      let response = pg.waitForResponse((r) => r.url().endsWith('/api/exit-intent'), { timeout: 5000 });
      await hide(pg);
      await (await response).json();
      await unhide(pg);
      await pg.waitForSelector('#exit-overlay:not([hidden])', { timeout: 3000 }).catch(() => null);
      let shown = await overlayShown(pg);
      check('exit intent, touch: the tab hidden (visibilitychange) shows the exit_save overlay on return',
            shown !== null && shown.offer === 'exit_save' && shown.trigger === 'hidden' && (await exitCount(sessionId)) === 1, JSON.stringify({ shown, calls }));
      await pg.click('#exit-close');
      await hide(pg); await unhide(pg);
      await pg.evaluate(() => window.dispatchEvent(new Event('blur')));
      await pg.reload();
      await hide(pg); await unhide(pg);
      await sleep(500);
      check('exit intent, touch: at most once per session (hidden again, blur, hidden after a reload send nothing)',
            same(exitCalls(calls), ['hidden']) && (await overlayShown(pg)) === null && (await exitCount(sessionId)) === 1, JSON.stringify(calls));
      await c.close();
      ({ c, pg, calls, sessionId } = await phone());
      response = pg.waitForResponse((r) => r.url().endsWith('/api/exit-intent'), { timeout: 5000 });
      await pg.evaluate(() => window.dispatchEvent(new Event('blur')));
      await (await response).json();
      await pg.waitForSelector('#exit-overlay:not([hidden])', { timeout: 3000 }).catch(() => null);
      shown = await overlayShown(pg);
      check('exit intent, touch: the window losing focus (blur) shows the exit_save overlay',
            shown !== null && shown.offer === 'exit_save' && shown.trigger === 'blur' && (await exitCount(sessionId)) === 1, JSON.stringify({ shown, calls }));
      await c.close();
    }

    // 5. Account of a lapsed customer: buy again, picked for you, win-back, e-mail preview.
    const [{ customer_id: cust }] = await sql(
      `SELECT c.customer_id FROM personalize.customer_profiles c
       CROSS JOIN LATERAL (SELECT count(*) AS n FROM personalize.buy_again(c.customer_id, 'shop.purchases', 1, '2026-01-01')) b
       WHERE c.lifecycle_stage IN ('lapsed', 'churned') AND c.p_alive < 0.5 AND c.orders >= 3 AND b.n > 0
       ORDER BY c.clv DESC, c.customer_id LIMIT 1`);
    ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.fill('input[name=customer_id]', String(cust));
    await page.click('.signin button');
    await page.waitForSelector('#picks');
    const homePicks = await ids(page, '#picks');
    const picksSql = (await sql(`SELECT item_id FROM personalize.suggestions($1::bigint, 8) ORDER BY rank`, [cust])).map((r) => Number(r.item_id));
    check(`home signed in as ${cust}: "picked for you" = suggestions(${cust}, 8)`, homePicks.length > 0 && same(homePicks, picksSql), show(homePicks, picksSql));
    check('home signed in: no first-visit banner for a customer with orders', (await page.$('#banner')) === null);
    await page.click('text=Account');
    await page.waitForSelector('#buy-again');
    const againPage = await ids(page, '#buy-again');
    const againSql = (await sql(`SELECT item_id FROM personalize.buy_again($1, 'shop.purchases', 6, '2026-01-01') ORDER BY rank`, [cust])).map((r) => Number(r.item_id));
    check(`account ${cust}: "buy again" = buy_again(${cust})`, againPage.length > 0 && same(againPage, againSql), show(againPage, againSql));
    const pickedPage = await ids(page, '#picked');
    check(`account ${cust}: "picked for you" = suggestions(${cust}, 6)`, same(pickedPage, picksSql.slice(0, 6)), show(pickedPage, picksSql.slice(0, 6)));
    const ctxCust = (await sql(contextSql, [cust, {}, {}]))[0].jsonb_build_object;
    const mailSql = (await sql(`SELECT offer_key FROM personalize.eligible_offers($1::jsonb, 'email')`, [ctxCust])).map((r) => r.offer_key);
    const mailPage = await page.$$eval('#email-offers [data-offer]', (els) => els.map((e) => e.dataset.offer));
    check(`account ${cust}: e-mail preview offers = eligible_offers(context, 'email')`, same(mailPage, mailSql), show(mailPage, mailSql));
    check(`account ${cust} (lapsed, P(alive) < 0.5): the win-back offer`, mailSql.includes('win_back') && (await page.$('#win-back')) !== null);
    await shot(page, 'account');

    // The marketer's page.
    await page.goto(`${base}/insights`);
    const segSvg = await page.$$eval('#segments svg text', (ts) => ts.map((t) => t.textContent));
    const segSql = await sql(`SELECT coalesce(segment, '(none)') AS s, count(*) AS n FROM personalize.customer_profiles GROUP BY 1 ORDER BY 2 DESC, 1`);
    const expected = segSql.flatMap((r) => [r.s, String(r.n)]);
    check('insights: the segment chart = customer_profiles by segment', same(segSvg, expected), show(segSvg, expected));
    const upliftRows = await page.$$eval('#uplift tr[data-offer]', (trs) => trs.map((t) => t.dataset.offer));
    const upliftSql = (await sql(`SELECT offer_key FROM personalize.offer_uplift() ORDER BY offer_key`)).map((r) => r.offer_key);
    check('insights: the uplift table = offer_uplift()', same(upliftRows, upliftSql), show(upliftRows, upliftSql));
    await shot(page, 'insights');

    // Bad input and unknown ids: 400 with a message, a normal page for an unknown product.
    const api = ctx.request;
    let r = await api.get(`${base}/product/abc`);
    check('bad input: /product/abc is 400 with a message', r.status() === 400 && (await r.text()).includes('"product id" must be a positive integer'));
    r = await api.get(`${base}/product/987654321`);
    check('unknown product: a normal 404 page', r.status() === 404 && (await r.text()).includes('Product not found'));
    r = await api.get(`${base}/cart/why?offer=no_such_offer`);
    check('unknown offer: "why this price?" is a normal 404 page', r.status() === 404 && (await r.text()).includes('No such offer'));
    r = await api.get(`${base}/cart/why?offer=${encodeURIComponent("x' OR 1=1")}`);
    check('bad input: an offer key that is not one is 400', r.status() === 400 && (await r.text()).includes('"offer" must be an offer key'));
    r = await api.get(`${base}/api/suggestions?customer_id=-4`);
    check('bad input: customer_id=-4 is 400', r.status() === 400 && (await r.json()).error.includes('"customer_id"'));
    r = await api.get(`${base}/api/suggestions?customer_id=987654321&n=3`);
    check('unknown customer: suggestions are the best sellers', r.status() === 200 && (await r.json()).suggestions.length === 3);
    r = await api.post(`${base}/api/events`, { data: { events: [{ type: 'teleport' }] } });
    check('bad input: an unknown event type is 400', r.status() === 400 && (await r.json()).error.includes('"events[0].type"'));
    r = await api.post(`${base}/api/offers/decide`, { headers: { 'content-type': 'application/json' }, data: Buffer.from('{"items": [1, "x"]') });
    check('bad input: malformed JSON is 400', r.status() === 400 && (await r.json()).error === 'the body is not valid JSON');
    r = await api.post(`${base}/api/cart/suggestions`, { data: { items: [{ product_id: 0 }] } });
    check('bad input: product_id 0 in a cart is 400', r.status() === 400);
    r = await api.post(`${base}/api/cart/suggestions`, { data: { items: [Number(prod)], n: 3 } });
    const apiCross = (await r.json()).suggestions.map((x) => Number(x.item_id));
    const apiCrossSql = (await sql(`SELECT item FROM personalize.cart_suggestions(ARRAY[$1::bigint], 3) ORDER BY score DESC, item`, [prod])).map((x) => Number(x.item));
    check('api: POST /api/cart/suggestions = cart_suggestions', same(apiCross, apiCrossSql), show(apiCross, apiCrossSql));
    // The model-list cache: keyed by the latest refresh run, which is checked at most once a second.
    // A row added to refresh_runs (as a refresh starting would add one, removed again) must empty it.
    const before = await (await api.get(`${base}/api/stats`)).json();
    const [{ run_id: lastRun }] = await sql(`SELECT max(run_id) AS run_id FROM personalize.refresh_runs`);
    check(`cache: keyed by the latest refresh run (${lastRun}), with hits`,
          String(before.model_run).startsWith(`${lastRun}:`) && before.cache_hits > 0, JSON.stringify(before));
    const [{ run_id: newRun }] = await sql(`INSERT INTO personalize.refresh_runs (started_at, status, "full", backend_pid)
                                            VALUES (now(), 'running', false, pg_backend_pid()) RETURNING run_id`);
    await sleep(1100);
    await api.get(`${base}/api/complements?product_id=${prod}&n=4`);
    const afterRun = await (await api.get(`${base}/api/stats`)).json();
    await sql(`DELETE FROM personalize.refresh_runs WHERE run_id = $1`, [newRun]);
    check('cache: a new refresh run empties it within a second (the next lookup is a miss)',
          afterRun.model_run === `${newRun}:running` && afterRun.cache_misses === before.cache_misses + 1, JSON.stringify(afterRun));
    const stats = await (await api.get(`${base}/api/stats`)).json();
    check(`events: none failed (${stats.events_written} written)`, stats.events_failed === 0 && stats.events_written > 0, JSON.stringify(stats));
  } catch (e) {
    check('the browser run', false, e.stack);
  } finally {
    await browser.close();
    await db.end();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
