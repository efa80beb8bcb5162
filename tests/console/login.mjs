// console.login: without a session the page shows the login form and the
// API answers 401; a wrong token keeps the form, says so and changes
// nothing; requests without the console's header are refused even with a
// session (403); the right token shows the node; a session lost under
// an open page brings the form back; logging out ends the session; the
// link `gpuvisor ui` prints logs in by itself.
import { open, login, loggedIn, run, step, gv, gvJson, eq, assert, URL_BASE } from './lib.mjs';

// fetch from inside the page (same origin, the page's cookies)
const pageFetch = (page, method, p, body, headers) => page.evaluate(async ([m, u, b, hd]) => {
	const r = await fetch(u, {
		method: m, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', ...hd },
		body: b === null ? undefined : JSON.stringify(b),
	});
	return { status: r.status, text: await r.text() };
}, [method, p, body, headers || {}]);

run(async () => {
	gvJson('create', '--profile', 'passthrough', '--gpu', '1');
	const snapshot = () => JSON.stringify(gvJson('list').instances.map((i) => [i.id, i.gpu, i.profile]))
		+ JSON.stringify(gvJson('gpus').gpus.map((g) => g.mode));
	const before = snapshot();

	step('no session: the login form, the API says 401');
	const page = await open();
	await page.goto(`${URL_BASE}/`);
	eq(new URL(page.url()).pathname, '/ui/', 'GET / leads to /ui/');
	await page.locator('#login-form').waitFor({ state: 'visible' });
	eq(await page.locator('#main').isHidden(), true, 'the node view without a session');
	eq((await pageFetch(page, 'GET', '/v1/gpus', null)).status, 401, 'GET /v1/gpus without a session');
	const r0 = await pageFetch(page, 'POST', '/v1/instances', { profile: 'a100-40c', gpu: '0' }, { 'X-Gpuvisor-Console': '1' });
	eq(r0.status, 401, `POST /v1/instances without a session (${r0.text})`);
	const r1 = await pageFetch(page, 'PUT', '/v1/gpus/0/mode', { mode: 'mig' }, { 'X-Gpuvisor-Console': '1' });
	eq(r1.status, 401, 'PUT mode without a session');

	step('a wrong token: the form again, with the reason, nothing changes');
	await login(page, 'not-the-token');
	await page.locator('#login-error').waitFor({ state: 'visible' });
	const msg = await page.locator('#login-error').textContent();
	assert(/wrong token/i.test(msg), `login error: ${msg}`);
	eq(await page.locator('#main').isHidden(), true, 'the node view after a wrong token');
	eq(await page.locator('#gpus section.gpu').count(), 0, 'GPU cards after a wrong token');
	eq((await page.context().cookies()).filter((c) => c.name === 'gv_session').length, 0, 'a session cookie after a wrong token');
	eq((await pageFetch(page, 'GET', '/v1/instances', null)).status, 401, 'the API after a wrong token');
	eq(snapshot(), before, 'instances and modes after the wrong token');

	step('the right token: the node; HttpOnly cookie');
	await login(page);
	await loggedIn(page);
	assert((await page.locator('#gpus section.gpu').count()) === 2, 'two GPU cards');
	const ck = (await page.context().cookies()).find((c) => c.name === 'gv_session');
	assert(ck && ck.httpOnly, `gv_session cookie HttpOnly: ${JSON.stringify(ck)}`);
	eq(await page.evaluate(() => document.cookie.includes('gv_session')), false, 'the cookie is hidden from scripts');

	step('a change without X-Gpuvisor-Console is refused (403), nothing changes');
	const r2 = await pageFetch(page, 'POST', '/v1/instances', { profile: 'a100-40c', gpu: '0' }, {});
	eq(r2.status, 403, `POST without the header (${r2.text})`);
	const r3 = await pageFetch(page, 'DELETE', `/v1/instances/${gvJson('list').instances[0].id}`, null, {});
	eq(r3.status, 403, 'DELETE without the header');
	eq(snapshot(), before, 'instances and modes after the refused requests');

	step('the session goes away under an open page: the form comes back');
	await page.context().clearCookies();
	await page.locator('#login-form').waitFor({ state: 'visible', timeout: 10000 });
	const why = await page.locator('#login-error').textContent();
	assert(/session ended/.test(why), `the login form's message: ${why}`);
	eq(await page.locator('#main').isHidden(), true, 'the node view without a session');
	await login(page);
	await loggedIn(page);

	step('log out: the form, the session is gone');
	await page.click('#logout');
	await page.locator('#login-form').waitFor({ state: 'visible' });
	eq((await pageFetch(page, 'GET', '/v1/gpus', null)).status, 401, 'the API after logging out');
	await page.reload();
	await page.locator('#login-form').waitFor({ state: 'visible' });

	step('gpuvisor ui: its link logs a fresh browser in');
	const ui = gv('ui');
	eq(ui.rc, 0, `gpuvisor ui: ${ui.out}${ui.err}`);
	const link = (ui.out.match(/http:\/\/\S+\/ui\/login\?ticket=\S+/) || [])[0];
	assert(link, `no login link in: ${ui.out}`);
	const p2 = await open();
	await p2.goto(link.replace(/^http:\/\/[^/]+/, URL_BASE));
	await loggedIn(p2);
	eq(new URL(p2.url()).pathname, '/ui/', 'the ticket link ends on /ui/');
	const again = await open();
	await again.goto(link.replace(/^http:\/\/[^/]+/, URL_BASE));
	await again.locator('#login-form').waitFor({ state: 'visible' });
	eq(snapshot(), before, 'nothing changed along the way');
});
