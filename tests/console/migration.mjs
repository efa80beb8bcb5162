// console.migration: a workload (gv-train under `gpuvisor run
// --migratable`) on a time-sliced H100 is listed with its pid and state; a
// migration started with the CLI shows its progress live in the page
// (rounds advancing, dirty bytes, expected downtime), then its report
// (stun, bytes before and during, rounds) as the daemon stored it; the
// workload is then migrated back from the page, suspended and resumed from
// the page. Screenshots: docs/console-migration.png (live) and
// docs/console-migration-report.png.
import { open, login, loggedIn, run, step, gvOk, gvJson, eq, assert, waitFor, screenshot, bg, apiSock, sleep } from './lib.mjs';

const BIN = process.env.GV_BIN_DIR;
const SOCK = process.env.GV_SOCK;
const inst = (id) => gvJson('list').instances.find((i) => i.id === id);

run(async () => {
	gvOk('mode', '0', 'timeslice');
	gvOk('mode', '1', 'timeslice');
	const src = gvJson('create', '--profile', 'h100-10c', '--gpu', '0').id;
	// rewrites its 384 MiB every step: pre-copy never converges under a 1 ms
	// limit and runs all its rounds, long enough to watch
	const wl = bg(`${BIN}/gpuvisor`, ['--socket', SOCK, 'run', '--instance', src, '--migratable', '--',
		`${BIN}/gv-train`, '--params-mib', '128', '--steps', '100000', '--step-ms', '5']);
	const w = await waitFor('the workload registered', () => { const i = inst(src); return i && i.workload; }, 30000);
	await waitFor('its control socket', async () => {
		const r = await apiSock('GET', `/v1/instances/${src}/env`);
		return r.status === 200 && wl.exitCode === null;
	});
	await sleep(1000);

	const page = await open();
	await login(page);
	await loggedIn(page);

	step('the workload in its instance row');
	const row = page.locator(`tr[data-instance="${src}"]`);
	await waitFor('pid in the row', async () => (await row.locator('td.pid').textContent()) === String(w.pid));
	eq(await row.locator('td.wstate').textContent(), 'running', 'workload state');
	eq(await row.locator('button.migrate').count(), 1, 'Migrate offered');
	eq(await row.locator('button.suspend').count(), 1, 'Suspend offered');

	step('a migration started by the CLI: progress live in the page');
	const mig = bg(`${BIN}/gpuvisor`, ['--socket', SOCK, 'migrate', src, '--to', '1', '--downtime-limit', '1', '--max-rounds', '30']);
	const card = page.locator('article.migration[data-state="running"]');
	await card.waitFor({ timeout: 30000 });
	const id = await card.getAttribute('data-migration');
	const rounds = new Set();
	let shot = false;
	await waitFor('rounds advancing in the page', async () => {
		if (!(await card.count())) return false;
		const r = await card.locator('dd.round').textContent().catch(() => null);
		if (r === null) return false;
		rounds.add(Number(r));
		const dirty = await card.locator('dd.dirty').textContent();
		const exp = await card.locator('dd.expected').textContent();
		assert(/B$/.test(dirty) && / ms$/.test(exp), `progress fields: dirty ${dirty}, expected ${exp}`);
		if (!shot && rounds.size >= 2) {
			await screenshot(page, 'migration', page.locator('#migrations-panel'));
			shot = true;
		}
		return rounds.size >= 2;
	}, 60000);
	console.log(`rounds seen live: ${[...rounds].join(', ')}`);
	eq(await mig.done, 0, `gpuvisor migrate: ${mig.output}`);

	step('the report as the daemon stored it');
	const done = page.locator(`article.migration[data-migration="${id}"][data-state="completed"]`);
	await done.waitFor({ timeout: 20000 });
	const m = (await apiSock('GET', `/v1/migrations/${id}`)).body;
	eq(m.state, 'completed', 'state');
	eq(await done.locator('dd.rounds').textContent(), String(m.report.rounds), 'rounds');
	eq(await done.locator('dd.stun').textContent(), `${m.report.downtime_ms.toFixed(1)} ms`, 'stun');
	for (const k of ['before', 'during']) assert((await done.locator(`dd.${k}`).textContent()).endsWith('B'), `bytes ${k}`);
	await screenshot(page, 'migration-report', done);
	const dst = await waitFor('the workload on gpu 1', () => gvJson('list').instances.find((i) => i.workload && i.gpu === 1));

	step('migrate back from the page (stop-and-copy)');
	const row2 = page.locator(`tr[data-instance="${dst.id}"]`);
	await row2.locator('button.migrate').click();
	const md = page.locator('#migrate-dialog');
	await md.locator('#to').selectOption('0');
	await md.locator('#mig-mode').selectOption('stopcopy');
	await md.locator('button[type=submit]').click();
	await md.waitFor({ state: 'detached' });
	const back = await waitFor('the workload on gpu 0 again', () => gvJson('list').instances.find((i) => i.workload && i.gpu === 0), 60000);
	const ms = gvJson('migrations').migrations;
	eq(ms.map((x) => x.state), ['completed', 'completed'], 'migrations');
	eq(ms[1].mode, 'stopcopy', 'the page asked for stop-and-copy');

	step('suspend and resume from the page');
	const row3 = page.locator(`tr[data-instance="${back.id}"]`);
	await row3.locator('button.suspend').click();
	await waitFor('suspended', () => inst(back.id).workload.state === 'suspended', 60000);
	await waitFor('the page shows it', async () => (await row3.locator('td.wstate').textContent()) === 'suspended');
	await row3.locator('button.resume').click();
	await waitFor('running', () => inst(back.id).workload.state === 'running', 60000);
	await waitFor('the page shows it', async () => (await row3.locator('td.wstate').textContent()) === 'running');
	assert(wl.exitCode === null, `the workload ended: ${wl.output}`);
});
