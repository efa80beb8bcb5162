// console.assign: changes made through the page, checked with the CLI.
// "Add vGPU" on the MIG GPU offers the profiles with room and greys the
// others with the daemon's reason; a MIG profile is placed at a start
// picked in the dialog and `gpuvisor list` shows it there; a refused
// change (mode with instances, a create on a full GPU) shows the daemon's
// message, the one the CLI prints, and changes nothing; the mode of an
// empty GPU is changed; instances are destroyed through the page.
// Screenshot: docs/console-add.png.
import { open, login, loggedIn, run, step, gv, gvOk, gvJson, eq, assert, waitFor, screenshot, refreshed } from './lib.mjs';

const instances = () => gvJson('list').instances;

run(async () => {
	gvOk('mode', '0', 'mig');
	const big = gvJson('create', '--profile', '4g.20gb', '--gpu', '0');
	const page = await open();
	await login(page);
	await loggedIn(page);

	step('"Add vGPU": what fits is offered, the rest greyed with the daemon\'s reason');
	await page.click('section.gpu[data-gpu="0"] button.add');
	const dlg = page.locator('#add-dialog');
	await dlg.locator('label.profile').first().waitFor();
	const profiles = gvJson('profiles', '--gpu', '0').profiles;
	for (const p of profiles) {
		const row = dlg.locator(`label.profile[data-profile="${p.name}"]`);
		eq(await row.count(), 1, `row of ${p.name}`);
		const disabled = await row.locator('input').isDisabled();
		eq(disabled, !(p.free > 0), `${p.name} (free ${p.free}) greyed`);
		if (!(p.free > 0) && p.reason) {
			const why = await row.locator('.why').textContent();
			eq(why, p.reason, `the reason shown for ${p.name}`);
		}
	}
	const p3 = profiles.find((p) => p.name === '3g.20gb');
	assert(p3 && p3.free > 0, `3g.20gb should fit next to a 4g.20gb: ${JSON.stringify(p3)}`);
	await dlg.locator('label.profile[data-profile="3g.20gb"] input').check();
	const opts = await dlg.locator('#placement option').evaluateAll((os) => os.map((o) => o.value));
	eq(opts, ['', ...(p3.free_starts || []).map(String)], 'placements offered for 3g.20gb');
	const start = (p3.free_starts || [])[0];
	assert(start !== undefined, `no free start for 3g.20gb: ${JSON.stringify(p3)}`);
	await dlg.locator('#placement').selectOption(String(start));
	await screenshot(page, 'add', dlg);

	step('the slot is taken meanwhile (CLI): the dialog shows the daemon\'s refusal, nothing made');
	const taker = gvJson('create', '--profile', '1g.5gb', '--gpu', '0', '--placement', String(start));
	const before = instances().length;
	const cli = gv('create', '--profile', '3g.20gb', '--gpu', '0', '--placement', String(start));
	eq(cli.rc, 1, `the CLI's create on a taken start: ${cli.out}${cli.err}`);
	await dlg.locator('button[type=submit]').click();
	await dlg.locator('.error').waitFor({ state: 'visible' });
	eq((await dlg.locator('.error').textContent()).trim(), cli.err.replace(/^gpuvisor: /, '').trim(), 'the dialog shows the message the CLI prints');
	eq(instances().length, before, 'instances after a refused create');
	await dlg.locator('button', { hasText: 'Cancel' }).click();
	gvOk('destroy', taker.id);

	step('create at the start picked in the dialog');
	await page.click('section.gpu[data-gpu="0"] button.add');
	await dlg.locator('label.profile').first().waitFor();
	await dlg.locator('label.profile[data-profile="3g.20gb"] input').check();
	await dlg.locator('#placement').selectOption(String(start));
	await dlg.locator('button[type=submit]').click();
	await dlg.waitFor({ state: 'detached' });
	const made = await waitFor('the new instance in gpuvisor list', () =>
		instances().find((i) => i.profile === '3g.20gb' && i.gpu === 0));
	eq(made.start, start, 'the start picked in the dialog');
	await waitFor('the instance in the page', async () =>
		(await page.locator(`section.gpu[data-gpu="0"] tr[data-instance="${made.id}"]`).count()) === 1);
	eq(await page.locator(`.slot-inst[data-instance="${made.id}"]`).getAttribute('data-start'), String(start), 'slot map');

	step('mode change with instances: the daemon\'s message, nothing changes');
	const cliMode = gv('mode', '0', 'timeslice');
	eq(cliMode.rc, 1, 'CLI mode change with instances');
	await page.click('section.gpu[data-gpu="0"] button.setmode');
	const md = page.locator('#mode-dialog');
	await md.locator('#mode').selectOption('timeslice');
	await md.locator('button[type=submit]').click();
	await md.locator('.error').waitFor({ state: 'visible' });
	eq((await md.locator('.error').textContent()).trim(), cliMode.err.replace(/^gpuvisor: /, '').trim(), 'mode refusal');
	eq(gvJson('gpus').gpus[0].mode, 'mig', 'mode after the refusal');
	await md.locator('button', { hasText: 'Cancel' }).click();

	step('destroy through the page');
	for (const id of [made.id, big.id]) {
		await page.click(`tr[data-instance="${id}"] button.destroy`);
		const dd = page.locator('#destroy-dialog');
		await dd.locator('button[type=submit]').click();
		await dd.waitFor({ state: 'detached' });
		await waitFor(`${id} gone from gpuvisor list`, () => !instances().some((i) => i.id === id));
		await waitFor(`${id} gone from the page`, async () => (await page.locator(`tr[data-instance="${id}"]`).count()) === 0);
	}

	step('mode change of the empty GPU, then a time-sliced vGPU through the page');
	await page.click('section.gpu[data-gpu="0"] button.setmode');
	await md.locator('#mode').selectOption('timeslice');
	await md.locator('button[type=submit]').click();
	await md.waitFor({ state: 'detached' });
	await waitFor('gpu 0 timeslice', () => gvJson('gpus').gpus[0].mode === 'timeslice');
	await waitFor('the badge', async () => (await page.locator('section.gpu[data-gpu="0"] .modebadge').textContent()) === 'timeslice');
	await page.click('section.gpu[data-gpu="0"] button.add');
	await dlg.locator('label.profile').first().waitFor();
	eq(await dlg.locator('label.profile[data-profile="3g.20gb"] input').isDisabled(), true, 'a MIG profile on a timeslice GPU');
	await dlg.locator('label.profile[data-profile="a100-10c"] input').check();
	eq(await dlg.locator('.placement').isHidden(), true, 'no placement for a time-sliced profile');
	await dlg.locator('button[type=submit]').click();
	await dlg.waitFor({ state: 'detached' });
	const ts = await waitFor('the a100-10c', () => instances().find((i) => i.profile === 'a100-10c'));
	eq(ts.gpu, 0, 'its GPU');
	await refreshed(page);
	eq(await page.locator(`tr[data-tenant="${ts.id}"]`).count(), 1, 'its tenant row');
});
