// The MIG slot map of one GPU, drawn from the daemon's data only: the
// geometry comes from the GPU's MIG profiles (memory slices: the largest
// start + mem_slices; compute slices: the largest compute_slices), each
// instance sits at its `start` over its profile's `mem_slices`, and the free
// placements are the profiles' `free_starts`. Compute slices are a count
// per GPU instance, not a position: they are drawn one after the other.
import { s, h } from './dom.js';

export function geometry(profiles) {
	let mem = 0;
	let compute = 0;
	for (const p of profiles) {
		if ((p.kind !== 'mig' && p.kind !== 'mig-vgpu') || p.mem_slices === null || p.mem_slices === undefined) continue;
		for (const st of p.starts || []) mem = Math.max(mem, st + p.mem_slices);
		compute = Math.max(compute, p.compute_slices || 0);
	}
	return { mem, compute };
}

const CELL = 44;
const ROW = 34;

export function slotMap(gpu, profiles, instances) {
	const byName = new Map(profiles.filter((p) => p.kind === 'mig' || p.kind === 'mig-vgpu').map((p) => [p.name, p]));
	const geo = geometry(profiles);
	const box = h('div', { class: 'slotmap', 'data-gpu': gpu.index });
	if (!geo.mem) {
		box.appendChild(h('p', { class: 'muted', text: 'no MIG profiles for this GPU in the catalog' }));
		return box;
	}
	const width = 90 + Math.max(geo.mem, geo.compute) * CELL;
	const svg = s('svg', {
		class: 'slots', viewBox: `0 0 ${width} ${ROW * 2 + 30}`, role: 'img',
		'aria-label': `MIG slots of GPU ${gpu.index}`,
	});
	svg.appendChild(s('text', { class: 'slot-row', x: 0, y: 22, text: 'memory' }));
	svg.appendChild(s('text', { class: 'slot-row', x: 0, y: ROW + 22, text: 'compute' }));
	for (let i = 0; i < geo.mem; i++) {
		svg.appendChild(s('rect', { class: 'slot free', x: 90 + i * CELL, y: 4, width: CELL - 2, height: ROW - 6, 'data-slot': i }));
		svg.appendChild(s('text', { class: 'slot-num', x: 90 + i * CELL + CELL / 2, y: ROW * 2 + 24, 'text-anchor': 'middle', text: String(i) }));
	}
	for (let i = 0; i < geo.compute; i++) {
		svg.appendChild(s('rect', { class: 'slot free', x: 90 + i * CELL, y: ROW + 4, width: CELL - 2, height: ROW - 6 }));
	}
	let c = 0;
	const mine = instances.filter((i) => i.gpu === gpu.index && i.start !== null && i.start !== undefined)
		.sort((a, b) => a.start - b.start);
	mine.forEach((inst, n) => {
		const p = byName.get(inst.profile);
		const ms = p ? p.mem_slices : 1;
		const cs = p ? p.compute_slices || 0 : 0;
		const cls = `inst c${n % 8}`;
		const g = s('g', {
			class: 'slot-inst', 'data-instance': inst.id, 'data-start': inst.start,
			'data-mem-slices': ms, 'data-compute-slices': cs,
		});
		g.appendChild(s('rect', { class: cls, x: 90 + inst.start * CELL, y: 4, width: ms * CELL - 2, height: ROW - 6 },
			s('title', { text: `${inst.id} ${inst.profile}: memory slices ${inst.start}-${inst.start + ms - 1}` })));
		g.appendChild(s('text', { class: 'slot-text', x: 90 + inst.start * CELL + 4, y: 22, text: ms > 1 ? `${inst.id} ${inst.profile}` : inst.id }));
		if (cs) {
			g.appendChild(s('rect', { class: cls, x: 90 + c * CELL, y: ROW + 4, width: cs * CELL - 2, height: ROW - 6 },
				s('title', { text: `${inst.id}: ${cs} compute slices` })));
			g.appendChild(s('text', { class: 'slot-text', x: 90 + c * CELL + 4, y: ROW + 22, text: inst.id }));
			c += cs;
		}
		svg.appendChild(g);
	});
	box.appendChild(svg);
	const used = mine.reduce((n, i) => n + ((byName.get(i.profile) || {}).mem_slices || 0), 0);
	box.appendChild(h('p', { class: 'muted', text: `memory slices used ${used} of ${geo.mem}, compute slices used ${c} of ${geo.compute}` }));
	const free = h('ul', { class: 'free-starts' });
	const full = [];
	for (const p of byName.values()) {
		const fs = p.free_starts || [];
		if (!fs.length) {
			full.push(p.name);
			continue;
		}
		free.appendChild(h('li', { 'data-profile': p.name, 'data-free-starts': fs.join(',') },
			h('span', { class: 'prof', text: p.name }), ` free at slot ${fs.join(', ')}`));
	}
	if (full.length) free.appendChild(h('li', { class: 'muted full', text: `no room for ${full.join(', ')}` }));
	box.appendChild(h('details', { class: 'free-placements', open: true }, h('summary', { text: 'free placements' }), free));
	return box;
}
