// The event log: /v1/events?since=SEQ, newest first, the last 200 kept.
import { h, update } from './dom.js';
import { get } from './api.js';

let since = 0;
const kept = [];

export async function pollEvents(root) {
	for (let more = true; more;) {
		const r = await get(`/v1/events?since=${since}`);
		const evs = r.events || [];
		for (const e of evs) {
			kept.push(e);
			since = Math.max(since, e.seq);
		}
		more = evs.length >= 1000;
	}
	while (kept.length > 200) kept.shift();
	const rows = [...kept].reverse().map((e) => h('tr', { 'data-seq': e.seq },
		h('td', { class: 'num', text: String(e.seq) }),
		h('td', { class: 'time', text: e.time }),
		h('td', { class: 'kind', text: e.kind }),
		h('td', { text: e.gpu === null || e.gpu === undefined ? '' : String(e.gpu) }),
		h('td', { text: e.instance || '' }),
		h('td', { class: 'msg', text: e.message })));
	update(root, [h('table', { class: 'events' },
		h('thead', {}, h('tr', {}, ['seq', 'time', 'kind', 'gpu', 'instance', 'message'].map((t) => h('th', { text: t })))),
		h('tbody', {}, rows))]);
}
