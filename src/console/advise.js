// The Advise panel: POST /v1/advise with the form's answers; shows the
// advice (mode, profile, GPU, placement, whether it fits now, reasons,
// alternatives, the commands to run). A daemon without the endpoint (404)
// is said so plainly.
import { h } from './dom.js';
import { post } from './api.js';

function text(v) {
	if (v === null || v === undefined) return '-';
	if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : x}`).join(', ');
	return String(v);
}

export function setupAdvise(form, out) {
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const f = new FormData(form);
		const body = {
			workload: f.get('workload'),
			memory_mib: Number(f.get('memory_mib')),
			trusted: f.get('trusted') === 'on',
			latency_sensitive: f.get('latency_sensitive') === 'on',
			replicas: Number(f.get('replicas')),
		};
		out.replaceChildren(h('p', { class: 'muted', text: 'asking…' }));
		let r;
		try {
			r = await post('/v1/advise', body);
		} catch (e) {
			if (e.status === 404 && e.code !== 'bad_request') {
				out.replaceChildren(h('p', { class: 'error noadvise', text: 'this daemon has no advise (POST /v1/advise: 404)' }));
			} else {
				out.replaceChildren(h('p', { class: 'error', text: e.message }));
			}
			return;
		}
		const dl = h('dl', { class: 'advice' });
		for (const k of ['mode', 'profile', 'gpu', 'placement', 'fits_now']) {
			dl.append(h('dt', { text: k.replace('_', ' ') }), h('dd', { class: k, text: text(r[k]) }));
		}
		out.replaceChildren(dl,
			h('h3', { text: 'reasons' }), h('ul', {}, (r.reasons || []).map((x) => h('li', { text: text(x) }))),
			h('h3', { text: 'alternatives' }), h('ul', {}, (r.alternatives || []).map((x) => h('li', { text: text(x) }))),
			h('h3', { text: 'commands' }), h('pre', { class: 'commands', text: (r.commands || []).map(text).join('\n') }));
	});
}
