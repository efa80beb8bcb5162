// The Advise panel: POST /v1/advise with the form's answers; shows the
// advice (mode, profile, GPU, placement, whether it fits now, reasons,
// alternatives, the commands to run). A daemon without the endpoint (404)
// is said so plainly.
import { h } from './dom.js';
import { post } from './api.js';

function text(v) {
	if (v === null || v === undefined) return '-';
	if (typeof v === 'object') return JSON.stringify(v);
	return String(v);
}

// One option (the advice or an alternative): what, where, whether it fits,
// its replicas, the reasons and the commands that apply it.
function option(o, cls) {
	const where = o.gpu === null || o.gpu === undefined ? 'no GPU now' : `GPU ${o.gpu}`;
	const at = o.placement === null || o.placement === undefined ? '' : ` at slot ${o.placement}`;
	const box = h('div', { class: `option ${cls}` },
		h('p', { class: 'what' },
			h('span', { class: 'mode modebadge', text: text(o.mode) }), ' ',
			h('span', { class: 'profile prof', text: text(o.profile) }),
			` on ${where}${at} `,
			h('span', { class: o.fits_now ? 'fits yes' : 'fits no', text: o.fits_now ? 'fits now' : 'does not fit now' })));
	if (Array.isArray(o.replicas) && o.replicas.length > 1) {
		box.appendChild(h('ul', { class: 'replicas' }, o.replicas.map((r) => h('li', {
			text: `replica ${r.replica}: ${r.profile} (${r.kind}) on GPU ${r.gpu}${r.placement === null || r.placement === undefined ? '' : ' at slot ' + r.placement}`,
		}))));
	}
	if (Array.isArray(o.mode_changes) && o.mode_changes.length) {
		box.appendChild(h('p', { class: 'muted', text: `changes the mode of GPU ${o.mode_changes.join(', ')} first` }));
	}
	box.appendChild(h('ul', { class: 'reasons' }, (o.reasons || []).map((x) => h('li', { text: text(x) }))));
	if ((o.commands || []).length) box.appendChild(h('pre', { class: 'commands', text: o.commands.map(text).join('\n') }));
	return box;
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
			if (e.status === 404) {
				out.replaceChildren(h('p', { class: 'error noadvise', text: 'this daemon has no advise (POST /v1/advise: 404)' }));
			} else {
				out.replaceChildren(h('p', { class: 'error', text: e.message }));
			}
			return;
		}
		const alts = r.alternatives || [];
		out.replaceChildren(option(r, 'advice'),
			...(alts.length ? [h('h3', { text: 'alternatives' })] : []),
			...alts.map((x) => option(x, 'alternative')));
	});
}
