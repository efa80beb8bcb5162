// console.node: the node view shows what the daemon says. GPU 0 (A100) in
// MIG mode with instances made by the CLI: the slot map puts each one at
// the daemon's start over its profile's memory slices, and lists the
// daemon's free starts per profile; GPU 1 (H100) time-sliced with two
// instances: their tenants, policy and shares, and the SVG time series;
// an owner holding markup is shown as text; the Advise panel answers or
// says the daemon has none. Screenshot: docs/console-node.png.
import { bg, apiSock, open, login, loggedIn, run, step, gvOk, gvJson, eq, assert, waitFor, screenshot, refreshed, fail, sleep } from './lib.mjs';

run(async () => {
	gvOk('mode', '0', 'mig');
	gvOk('mode', '1', 'timeslice');
	const a = gvJson('create', '--profile', '3g.20gb', '--gpu', '0');
	const b = gvJson('create', '--profile', '1g.5gb', '--gpu', '0');
	const c = gvJson('create', '--profile', '2g.10gb', '--gpu', '0', '--placement', '0');
	const evil = '<img src=x id=pwned onerror=alert(1)>';
	const r = await apiSock('POST', '/v1/instances', { profile: 'h100-20c', gpu: '1', owner: evil });
	eq(r.status, 201, `create with owner: ${JSON.stringify(r.body)}`);
	const t1 = r.body;
	const t2 = gvJson('create', '--profile', 'h100-20c', '--gpu', '1');
	// a workload on t2: its share and memory are live in the page
	const BIN = process.env.GV_BIN_DIR;
	const wl = bg(`${BIN}/gpuvisor`, ['--socket', process.env.GV_SOCK, 'run', '--instance', t2.id, '--',
		`${BIN}/gv-train`, '--params-mib', '16', '--steps', '1000000', '--step-ms', '2']);
	await waitFor('the workload registered', () => gvJson('list').instances.find((i) => i.id === t2.id).workload, 30000);

	const page = await open();
	await login(page);
	await loggedIn(page);
	await refreshed(page);

	step('each GPU with its model, mode and memory');
	for (const g of gvJson('gpus').gpus) {
		const card = page.locator(`section.gpu[data-gpu="${g.index}"]`);
		const head = await card.locator('header').textContent();
		assert(head.includes(g.name), `GPU ${g.index} card lacks its name ${g.name}: ${head}`);
		eq(await card.locator('.modebadge').textContent(), g.mode, `GPU ${g.index} mode`);
		const legend = await card.locator('.memlegend').textContent();
		assert(legend.includes('allocated') && legend.includes('free') && legend.includes('used'), `memory legend: ${legend}`);
		const w = await card.locator('.membar .seg.alloc').evaluate((e) => e.style.width);
		assert(g.allocated_mib === 0 || parseFloat(w) > 0, `GPU ${g.index}: allocated ${g.allocated_mib} MiB but the bar is ${w}`);
	}

	step('the MIG slot map is the daemon\'s placements');
	const prof = new Map(gvJson('profiles', '--gpu', '0').profiles.map((p) => [p.name, p]));
	const list = gvJson('list').instances.filter((i) => i.gpu === 0);
	eq(list.length, 3, 'MIG instances on gpu 0');
	for (const i of list) {
		const g = page.locator(`section.gpu[data-gpu="0"] .slot-inst[data-instance="${i.id}"]`);
		eq(await g.getAttribute('data-start'), String(i.start), `${i.id} start in the slot map`);
		eq(await g.getAttribute('data-mem-slices'), String(prof.get(i.profile).mem_slices), `${i.id} memory slices`);
		eq(await g.getAttribute('data-compute-slices'), String(prof.get(i.profile).compute_slices), `${i.id} compute slices`);
		const rect = g.locator('rect').first();
		const x = Number(await rect.getAttribute('x'));
		const cell = Number(await page.locator(`section.gpu[data-gpu="0"] rect.slot[data-slot="${i.start}"]`).getAttribute('x'));
		eq(x, cell, `${i.id} is drawn over slot ${i.start}`);
	}
	eq(new Set([a.id, b.id, c.id]).size, 3, 'ids');
	for (const p of prof.values()) {
		if (p.kind !== 'mig') continue;
		const li = page.locator(`section.gpu[data-gpu="0"] .free-starts li[data-profile="${p.name}"]`);
		const fs = p.free_starts || [];
		if (fs.length) eq(await li.getAttribute('data-free-starts'), fs.join(','), `free starts of ${p.name}`);
		else eq(await li.count(), 0, `${p.name} has no free start and is listed as full`);
	}

	step('time-sliced GPU: tenants, policy, shares');
	const ts = page.locator('section.gpu[data-gpu="1"]');
	const pol = await ts.locator('.policy').textContent();
	const sched = JSON.parse(gvOk('sched', '1', '--json'));
	assert(pol.includes(sched.policy_in_force), `policy line ${pol} lacks ${sched.policy_in_force}`);
	for (const id of [t1.id, t2.id]) {
		eq(await ts.locator(`tr[data-tenant="${id}"]`).count(), 1, `tenant row of ${id}`);
		eq(await ts.locator(`tr[data-instance="${id}"]`).count(), 1, `instance row of ${id}`);
	}

	step('the workload: pid, live share and memory');
	const pid = gvJson('list').instances.find((i) => i.id === t2.id).workload.pid;
	const wrow = ts.locator(`tr[data-instance="${t2.id}"]`);
	await waitFor('its pid and state', async () => (await wrow.locator('td.pid').textContent()) === String(pid)
		&& (await wrow.locator('td.wstate').textContent()) === 'running');
	await waitFor('its share above 0% (live)', async () =>
		parseInt(await ts.locator(`tr[data-tenant="${t2.id}"] td.share`).textContent(), 10) > 0, 30000);
	await waitFor('its memory used', async () => !/^(-|0 B)$/.test(await wrow.locator('td:nth-child(5)').textContent()));
	assert(wl.exitCode === null, `the workload ended: ${wl.output}`);

	step('markup from the daemon is text');
	const owner = await ts.locator(`tr[data-instance="${t1.id}"]`).textContent();
	assert(owner.includes(evil), `the owner is not shown as text: ${owner}`);
	eq(await page.locator('#pwned').count(), 0, 'an element made from the owner');

	step('time series drawn as SVG');
	await waitFor('two history samples', async () => {
		await refreshed(page);
		return (await ts.locator('svg.chart polyline').count()) >= 2;
	}, 20000);
	const lines = await ts.locator('svg.chart polyline').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-series')));
	assert(lines.includes('allocated') && lines.includes('used'), `memory series: ${lines}`);
	const used = await ts.locator('svg.chart polyline[data-series="used"]').getAttribute('points');
	// the history starts with the daemon, before the workload: the line rises
	const ys = used.trim().split(' ').map((xy) => Number(xy.split(',')[1]));
	assert(Math.min(...ys) < Math.max(...ys), `the used line is flat: ${used}`);
	assert(lines.includes(t1.id) && lines.includes(t2.id), `share series per instance: ${lines}`);
	const pts = await ts.locator('svg.chart polyline[data-series="allocated"]').getAttribute('points');
	assert(pts.trim().split(' ').length >= 2, `one point only: ${pts}`);

	step('a refresh keeps the buttons under the pointer');
	const btn = await page.locator(`tr[data-instance="${a.id}"] button.destroy`).elementHandle();
	const live = await ts.locator(`tr[data-instance="${t2.id}"] button.suspend`).elementHandle();
	await refreshed(page);
	await refreshed(page);
	eq(await btn.evaluate((b) => b.isConnected), true, 'the Destroy button after two refreshes');
	eq(await live.evaluate((b) => b.isConnected), true, 'the Suspend button of a running workload after two refreshes');

	step('the event log');
	const ev = await page.locator('#events').textContent();
	assert(ev.includes('instance.created') && ev.includes('gpu.mode'), `event log: ${ev.slice(0, 300)}`);

	// a few seconds of history for the picture
	if (process.env.GV_CONSOLE_SCREENSHOTS === '1') await sleep(15000);
	await screenshot(page, 'node');

	step('Advise: the daemon\'s answer, or that it has none');
	await page.fill('#advise-memory', '8192');
	await page.selectOption('#advise-workload', 'inference');
	await page.click('#advise-form button[type=submit]');
	const out = page.locator('#advise-out');
	await waitFor('an advice', async () => {
		const t = await out.textContent();
		return t && !t.includes('asking') ? t : null;
	});
	const want = await apiSock('POST', '/v1/advise', {
		workload: 'inference', memory_mib: 8192, trusted: true, latency_sensitive: false, replicas: 1,
	});
	if (want.status === 404) {
		eq(await out.locator('.noadvise').count(), 1, 'the page says this daemon has no advise');
		console.log('advise: this daemon has none (404), and the page says so');
	} else {
		eq(want.status, 200, `POST /v1/advise: ${JSON.stringify(want.body)}`);
		const adv = out.locator('.option.advice');
		eq(await adv.locator('.mode').textContent(), want.body.mode, 'advised mode');
		eq(await adv.locator('.profile').textContent(), String(want.body.profile), 'advised profile');
		eq(await adv.locator('.fits').textContent(), want.body.fits_now ? 'fits now' : 'does not fit now', 'fits now');
		eq(await adv.locator('.reasons li').allTextContents(), want.body.reasons, 'reasons');
		eq(await out.locator('.option.alternative').count(), want.body.alternatives.length, 'alternatives');
		if (want.body.commands.length) eq(await adv.locator('pre.commands').textContent(), want.body.commands.join('\n'), 'commands');
	}
});
