// The node view: one card per GPU (model, mode, memory bar, MIG slot map or
// time-slice tenants, instances with their workloads, time series).
import { h, mib, bytes, pct, update } from './dom.js';
import { slotMap } from './slotmap.js';
import { lineChart } from './chart.js';
import * as dialogs from './dialogs.js';

// What was rendered last. Handlers find their instance or GPU from the
// row or card they sit in, in this state, when they run: a refresh keeps
// unchanged nodes (and their old listeners), so nothing may be captured.
let cur = { gpus: [], instances: [] };
const instOf = (ev) => cur.instances.find((i) => i.id === ev.currentTarget.closest('tr').dataset.instance);
const gpuOf = (ev) => cur.gpus.find((g) => String(g.index) === ev.currentTarget.closest('section.gpu').dataset.gpu);
const withInst = (fn) => (ev) => { const i = instOf(ev); if (i) fn(i); };
const withGpu = (fn) => (ev) => { const g = gpuOf(ev); if (g) fn(g); };

// Memory bar: allocated (given to instances) of which used (what their
// processes hold), and free, out of the GPU's memory.
function memBar(gpu, usedMib) {
	const total = gpu.mem_mib || 1;
	const alloc = gpu.allocated_mib || 0;
	const used = Math.min(usedMib, alloc || usedMib);
	const bar = h('div', { class: 'membar', 'data-gpu': gpu.index });
	const seg = (cls, v, label) => {
		const d = h('div', { class: `seg ${cls}`, title: label });
		d.style.width = `${Math.max(0, Math.min(100, (v / total) * 100))}%`;
		return d;
	};
	bar.append(seg('used', used, `used ${mib(used)}`), seg('alloc', Math.max(0, alloc - used), `allocated ${mib(alloc)}`));
	const legend = h('div', { class: 'memlegend' },
		h('span', { class: 'key used', text: `used ${mib(Math.round(used))}` }),
		h('span', { class: 'key alloc', text: `allocated ${mib(alloc)}` }),
		h('span', { class: 'key free', text: `free ${mib(gpu.free_mib)}` }),
		h('span', { class: 'muted', text: ` of ${mib(gpu.mem_mib)}` }));
	return h('div', { class: 'mem' }, bar, legend);
}

function instUsed(inst) {
	if (inst.mem_used_bytes !== null && inst.mem_used_bytes !== undefined) return inst.mem_used_bytes;
	if (inst.workload && inst.workload.mem_used_bytes !== null && inst.workload.mem_used_bytes !== undefined) return inst.workload.mem_used_bytes;
	return null;
}

function instanceRows(gpu, st, act) {
	const mine = st.instances.filter((i) => i.gpu === gpu.index);
	if (!mine.length) return h('p', { class: 'muted', text: 'no instances' });
	const tbody = h('tbody');
	for (const inst of mine) {
		const w = inst.workload;
		const buttons = h('td', { class: 'actions' });
		const running = st.migrations.some((m) => m.state === 'running' && (m.instance === inst.id || m.destination === inst.id));
		if (w && !running) {
			if (w.state === 'running') {
				buttons.appendChild(h('button', { class: 'migrate', text: 'Migrate', onclick: withInst((i) => dialogs.migrate(i, cur.gpus, cur.instances)) }));
				if (inst.kind !== 'mig' && inst.kind !== 'mig-vgpu') buttons.appendChild(h('button', { class: 'suspend', text: 'Suspend', onclick: withInst(act.suspend) }));
			} else if (w.state === 'suspended') {
				buttons.appendChild(h('button', { class: 'resume', text: 'Resume', onclick: withInst(act.resume) }));
			}
		}
		if (!running) buttons.appendChild(h('button', { class: 'destroy danger', text: 'Destroy', onclick: withInst(dialogs.destroy) }));
		tbody.appendChild(h('tr', { 'data-instance': inst.id },
			h('td', { class: 'id', text: inst.id }),
			h('td', { text: inst.profile }),
			h('td', { text: inst.start === null || inst.start === undefined ? '-' : String(inst.start) }),
			h('td', { class: 'num', text: mib(inst.fb_mib) }),
			h('td', { class: 'num', text: bytes(instUsed(inst)) }),
			h('td', { class: 'pid', text: w ? String(w.pid) : '-' }),
			h('td', { class: `wstate ${w ? w.state : 'none'}`, text: w ? w.state : 'no workload' }),
			h('td', { text: inst.owner || '' }),
			buttons));
	}
	return h('table', { class: 'instances' },
		h('thead', {}, h('tr', {}, ['instance', 'profile', 'start', 'memory', 'used', 'pid', 'workload', 'owner', ''].map((t) => h('th', { text: t })))),
		tbody);
}

function schedPanel(gpu, st) {
	const sc = st.sched.get(gpu.index);
	if (!sc) return h('p', { class: 'muted', text: 'scheduler: not available' });
	const tbody = h('tbody');
	for (const t of sc.tenants || []) {
		const bar = h('div', { class: 'sharebar' }, h('div', { class: 'fill' }));
		bar.firstChild.style.width = `${Math.round((t.share_last_s || 0) * 100)}%`;
		tbody.appendChild(h('tr', { 'data-tenant': t.instance },
			h('td', { class: 'id', text: t.instance }),
			h('td', { class: 'num', text: String(t.weight) }),
			h('td', {}, bar),
			h('td', { class: 'num share', text: pct(t.share_last_s || 0) }),
			h('td', { class: 'num', text: String(t.processes) }),
			h('td', { text: t.holding ? 'holding' : (t.waiting ? 'waiting' : '') })));
	}
	return h('div', { class: 'sched' },
		h('p', { class: 'policy', text: `policy ${sc.policy_in_force} (asked ${sc.policy}), slice ${sc.slice_ms_in_force} ms, ${sc.handovers} handovers` }),
		(sc.tenants || []).length ? h('table', { class: 'tenants' },
			h('thead', {}, h('tr', {}, ['instance', 'weight', 'share of the last second', '', 'processes', ''].map((t) => h('th', { text: t })))),
			tbody) : h('p', { class: 'muted', text: 'no tenants' }));
}

function charts(gpu, st) {
	const hist = st.history;
	if (!hist || !hist.samples || !hist.samples.length) return h('p', { class: 'muted', text: 'no history yet' });
	const samples = hist.samples;
	const t1 = samples[samples.length - 1].t;
	const t0 = Math.min(samples[0].t, t1 - 60000);
	const alloc = [];
	const used = [];
	const shares = new Map();
	for (const sm of samples) {
		const g = (sm.gpus || []).find((x) => x.index === gpu.index);
		if (g) {
			alloc.push([sm.t, g.allocated_mib]);
			used.push([sm.t, g.used_mib]);
		}
		for (const i of sm.instances || []) {
			if (i.gpu !== gpu.index || i.share === null || i.share === undefined) continue;
			if (!shares.has(i.id)) shares.set(i.id, []);
			shares.get(i.id).push([sm.t, i.share]);
		}
	}
	const box = h('div', { class: 'charts' });
	box.appendChild(lineChart({
		title: 'memory', t0, t1, ymax: gpu.mem_mib,
		series: [{ name: 'allocated', points: alloc }, { name: 'used', points: used }], yfmt: (v) => mib(Math.round(v)),
	}));
	if (gpu.mode === 'timeslice') {
		box.appendChild(lineChart({
			title: 'share of the GPU', t0, t1, ymax: 1,
			series: [...shares].map(([id, pts]) => ({ name: id, points: pts })), yfmt: pct,
		}));
	}
	return box;
}

export function renderNode(root, st, act) {
	cur = st;
	const cards = st.gpus.map((gpu) => {
		const mine = st.instances.filter((i) => i.gpu === gpu.index);
		const usedB = mine.reduce((n, i) => n + (instUsed(i) || 0), 0);
		const card = h('section', { class: `gpu mode-${gpu.mode}`, 'data-gpu': gpu.index },
			h('header', {},
				h('h2', { text: `GPU ${gpu.index}` }),
				h('span', { class: 'model', text: `${gpu.name}${gpu.model ? ' (' + gpu.model + ')' : ''}` }),
				h('span', { class: 'modebadge', text: gpu.mode }),
				h('span', { class: 'spacer' }),
				h('button', { class: 'add primary', text: 'Add vGPU', onclick: withGpu(dialogs.addVgpu) }),
				h('button', { class: 'setmode', text: 'Change mode', onclick: withGpu(dialogs.changeMode) })),
			h('p', { class: 'muted uuid', text: `${gpu.uuid} · ${gpu.pci_bus_id} · ${gpu.instances} instance(s)` }),
			memBar(gpu, usedB / (1024 * 1024)));
		if (gpu.mode === 'mig') card.appendChild(slotMap(gpu, st.profiles.filter((p) => p.gpu === gpu.index), st.instances));
		if (gpu.mode === 'timeslice') card.appendChild(schedPanel(gpu, st));
		card.append(instanceRows(gpu, st, act), charts(gpu, st));
		return card;
	});
	update(root, cards);
}
