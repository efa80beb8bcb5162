// Modal dialogs: add vGPU, change mode, destroy, migrate. Each shows the
// daemon's error message when it refuses (the same text the CLI prints) and
// stays open; on success it closes and the app refreshes.
import { h, clear, mib } from './dom.js';
import { get, post, put, del, seg } from './api.js';

let done = () => {};

// The app's refresh, called after a change went through.
export function onChange(fn) {
	done = fn;
}

function modal(title, id) {
	const dlg = h('dialog', { class: 'modal', id });
	const form = h('form', { method: 'dialog' });
	const body = h('div', { class: 'modal-body' });
	const error = h('p', { class: 'error', role: 'alert', hidden: true });
	const ok = h('button', { type: 'submit', class: 'primary', text: 'OK' });
	const cancel = h('button', { type: 'button', text: 'Cancel', onclick: () => dlg.close() });
	form.append(h('h2', { text: title }), body, error, h('div', { class: 'buttons' }, cancel, ok));
	dlg.appendChild(form);
	dlg.addEventListener('close', () => dlg.remove());
	document.body.appendChild(dlg);
	const showError = (msg) => {
		error.textContent = msg;
		error.hidden = false;
	};
	// run(fn): on submit, fn() performs the request; errors stay in the dialog
	const run = (fn) => {
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			ok.disabled = true;
			error.hidden = true;
			try {
				await fn();
				dlg.close();
				done();
			} catch (e) {
				showError(e.message);
			} finally {
				ok.disabled = false;
			}
		});
	};
	return { dlg, body, ok, run, showError };
}

// "Add vGPU" on one GPU: the profiles that fit now are offered, the others
// greyed with the daemon's reason; a MIG profile gets a placement picker
// of its free starts (or automatic).
export async function addVgpu(gpu) {
	const m = modal(`Add vGPU on GPU ${gpu.index}`, 'add-dialog');
	m.ok.textContent = 'Create';
	m.dlg.showModal();
	let profiles;
	try {
		profiles = (await get(`/v1/profiles?gpu=${seg(gpu.index)}`)).profiles;
	} catch (e) {
		m.showError(e.message);
		m.ok.disabled = true;
		return;
	}
	const list = h('fieldset', { class: 'profiles' }, h('legend', { text: `profiles for ${gpu.name} (mode ${gpu.mode})` }));
	const placement = h('select', { name: 'placement', id: 'placement' });
	const placeRow = h('label', { class: 'placement', hidden: true }, 'placement ', placement);
	const owner = h('input', { name: 'owner', id: 'owner', maxlength: 127, placeholder: 'optional' });
	let chosen = null;
	const pick = (p) => {
		chosen = p;
		clear(placement);
		if (p.kind === 'mig' || p.kind === 'mig-vgpu') {
			placement.appendChild(h('option', { value: '', text: 'automatic' }));
			for (const st of p.free_starts || []) placement.appendChild(h('option', { value: String(st), text: `slot ${st}` }));
			placeRow.hidden = false;
		} else {
			placeRow.hidden = true;
		}
	};
	let first = null;
	for (const p of profiles) {
		const fits = p.free > 0;
		const radio = h('input', { type: 'radio', name: 'profile', value: p.name, disabled: !fits, onchange: () => pick(p) });
		if (fits && !first) first = radio;
		const why = fits ? `${p.free} free` : (p.reason || 'does not fit now');
		list.appendChild(h('label', { class: fits ? 'profile fits' : 'profile nofit', 'data-profile': p.name },
			radio, h('span', { class: 'prof', text: p.name }),
			h('span', { class: 'kind', text: p.kind }),
			h('span', { class: 'fb', text: mib(p.fb_mib) }),
			h('span', { class: 'why', text: why })));
		if (first === radio) {
			radio.checked = true;
			pick(p);
		}
	}
	if (!first) m.showError('no profile fits on this GPU now');
	m.body.append(list, placeRow, h('label', {}, 'owner ', owner));
	m.run(async () => {
		if (!chosen) throw new Error('choose a profile');
		const body = { profile: chosen.name, gpu: String(gpu.index) };
		if (!placeRow.hidden && placement.value !== '') body.placement = Number(placement.value);
		if (owner.value.trim()) body.owner = owner.value.trim();
		await post('/v1/instances', body);
	});
}

export function changeMode(gpu) {
	const m = modal(`Mode of GPU ${gpu.index}`, 'mode-dialog');
	const sel = h('select', { name: 'mode', id: 'mode' },
		['passthrough', 'timeslice', 'mig'].map((x) => h('option', { value: x, text: x })));
	sel.value = gpu.mode;
	m.body.append(h('p', { class: 'muted', text: 'A GPU changes mode only without instances.' }), h('label', {}, 'mode ', sel));
	m.ok.textContent = 'Set mode';
	m.run(() => put(`/v1/gpus/${seg(gpu.index)}/mode`, { mode: sel.value }));
	m.dlg.showModal();
}

export function destroy(inst) {
	const m = modal(`Destroy ${inst.id}`, 'destroy-dialog');
	const force = h('input', { type: 'checkbox', name: 'force', id: 'force' });
	m.body.append(h('p', { text: `${inst.profile} on GPU ${inst.gpu}` }));
	if (inst.workload) m.body.append(h('label', {}, force, ` kill its workload (pid ${inst.workload.pid}) first`));
	m.ok.textContent = 'Destroy';
	m.run(() => del(`/v1/instances/${seg(inst.id)}${force.checked ? '?force=1' : ''}`));
	m.dlg.showModal();
}

// Migrate: to another GPU of the same model, or to an empty instance of the
// same profile; the daemon refuses the rest with its reason.
export function migrate(inst, gpus, instances) {
	const m = modal(`Migrate ${inst.id}`, 'migrate-dialog');
	const src = gpus.find((g) => g.index === inst.gpu);
	const to = h('select', { name: 'to', id: 'to' });
	for (const g of gpus) {
		if (g.index === inst.gpu || (src && g.model !== src.model)) continue;
		to.appendChild(h('option', { value: String(g.index), text: `GPU ${g.index} (new instance)` }));
	}
	for (const i of instances) {
		if (i.id === inst.id || i.profile !== inst.profile || i.workload) continue;
		to.appendChild(h('option', { value: i.id, text: `${i.id} on GPU ${i.gpu}` }));
	}
	const mode = h('select', { name: 'mode', id: 'mig-mode' },
		h('option', { value: 'precopy', text: 'pre-copy' }), h('option', { value: 'stopcopy', text: 'stop-and-copy' }));
	const limit = h('input', { type: 'number', name: 'downtime', id: 'downtime', min: 1, max: 600000, value: '300' });
	const ac = h('input', { type: 'checkbox', name: 'auto_converge', id: 'auto-converge' });
	m.body.append(h('label', {}, 'to ', to), h('label', {}, 'mode ', mode),
		h('label', {}, 'downtime limit (ms) ', limit), h('label', {}, ac, ' auto-converge'));
	m.ok.textContent = 'Migrate';
	m.run(() => post('/v1/migrations', {
		instance: inst.id, to: to.value, mode: mode.value,
		downtime_limit_ms: Number(limit.value), auto_converge: ac.checked,
	}));
	m.dlg.showModal();
}
