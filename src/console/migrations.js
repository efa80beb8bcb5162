// Migrations: running ones show their progress live (polled from
// /v1/migrations/ID/progress?since=SEQ), finished ones their report.
import { h, bytes, update } from './dom.js';
import { get, del, seg } from './api.js';
import { lineChart } from './chart.js';

const ms = (v) => (typeof v === 'number' ? `${v.toFixed(1)} ms` : '-');

// per migration id: {seq, progress: [...], report}
const seen = new Map();

async function poll(m) {
	let st = seen.get(m.id);
	if (!st) {
		st = { seq: 0, progress: [], report: null, detail: false };
		seen.set(m.id, st);
	}
	if (m.state === 'running' || !st.detail) {
		const p = await get(`/v1/migrations/${seg(m.id)}/progress?since=${st.seq}`);
		for (const ev of p.progress || []) {
			st.progress.push(ev);
			st.seq = Math.max(st.seq, ev.seq);
		}
	}
	if (m.state !== 'running' && !st.detail) {
		const d = await get(`/v1/migrations/${seg(m.id)}`);
		st.report = d.report;
		st.detail = true;
	}
	return st;
}

function progressView(m, st) {
	const last = st.progress[st.progress.length - 1];
	if (!last) return h('p', { class: 'muted', text: 'waiting for the first round' });
	const rows = h('dl', { class: 'progress' },
		h('dt', { text: 'phase' }), h('dd', { class: 'phase', text: last.phase }),
		h('dt', { text: 'round' }), h('dd', { class: 'round', text: String(last.round) }),
		h('dt', { text: 'copied' }), h('dd', { text: `${bytes(last.bytes_copied)} of ${bytes(last.bytes_total)}` }),
		h('dt', { text: 'dirty' }), h('dd', { class: 'dirty', text: bytes(last.bytes_dirty) }),
		h('dt', { text: 'dirty rate' }), h('dd', { text: `${bytes(Math.round(last.dirty_rate_bps))}/s` }),
		h('dt', { text: 'bandwidth' }), h('dd', { text: `${bytes(Math.round(last.bandwidth_bps))}/s` }),
		h('dt', { text: 'expected downtime' }), h('dd', { class: 'expected', text: ms(last.expected_downtime_ms) }),
		h('dt', { text: 'throttle' }), h('dd', { text: `${last.throttle_pct || 0}%` }));
	const max = Math.max(1, ...st.progress.map((e) => e.bytes_dirty));
	const chart = lineChart({
		title: 'dirty bytes by progress event', t0: 1, t1: Math.max(2, st.progress.length),
		series: [{ name: 'dirty', points: st.progress.map((e, i) => [i + 1, e.bytes_dirty]) }],
		ymax: max, yfmt: bytes, xlabels: ['1', String(st.progress.length)],
	});
	return h('div', { class: 'progress-box' }, rows, chart);
}

function reportView(m, st) {
	const r = st.report || {};
	const sm = m.summary || {};
	const v = (k) => (r[k] !== undefined && r[k] !== null ? r[k] : sm[k]);
	const dl = h('dl', { class: 'report' },
		h('dt', { text: 'stun (downtime)' }), h('dd', { class: 'stun', text: ms(v('downtime_ms')) }),
		h('dt', { text: 'expected downtime' }), h('dd', { text: ms(v('expected_downtime_ms')) }),
		h('dt', { text: 'bytes before the stun' }), h('dd', { class: 'before', text: bytes(v('bytes_precopy')) }),
		h('dt', { text: 'bytes during the stun' }), h('dd', { class: 'during', text: bytes(v('bytes_stun')) }),
		h('dt', { text: 'rounds' }), h('dd', { class: 'rounds', text: String(v('rounds')) }),
		h('dt', { text: 'total' }), h('dd', { text: ms(v('total_ms')) }),
		h('dt', { text: 'stopped by' }), h('dd', { text: String(v('stop')) }),
		h('dt', { text: 'throttle' }), h('dd', { text: `up to ${v('throttle_max_pct') || 0}%` }));
	// through the driver: the least this stun could have been, and the
	// driver's phases within it
	if (v('path') === 'driver') {
		dl.append(
			h('dt', { text: 'stun floor' }), h('dd', { class: 'floor', text: ms(v('floor_ms')) }),
			h('dt', { text: 'driver' }), h('dd', {
				text: ['lock', 'checkpoint', 'restore', 'unlock', 'release', 'map']
					.map((k) => `${k} ${ms(v(`${k}_ms`))}`).join(', '),
			}));
	}
	return dl;
}

export async function renderMigrations(root, migrations, notify) {
	const cards = [];
	for (const m of [...migrations].reverse().slice(0, 10)) {
		let st;
		try {
			st = await poll(m);
		} catch (e) {
			st = seen.get(m.id) || { progress: [], report: null };
		}
		const head = h('header', {},
			h('h3', { text: `${m.id}: ${m.instance} → ${m.destination || m.to_device || '?'}` }),
			h('span', { class: `state ${m.state}`, text: m.state }),
			h('span', { class: 'muted', text: ` ${m.mode}, limit ${m.downtime_limit_ms} ms` }));
		if (m.state === 'running') {
			head.appendChild(h('button', {
				class: 'cancel', text: 'Cancel',
				onclick: async (ev) => {
					// the card's id now (a refresh keeps this button's listener)
					const id = ev.currentTarget.closest('article').dataset.migration;
					try {
						await del(`/v1/migrations/${seg(id)}`);
					} catch (e) {
						notify(e.message, true);
					}
				},
			}));
		}
		const card = h('article', { class: 'migration', 'data-migration': m.id, 'data-state': m.state }, head);
		if (m.error) card.appendChild(h('p', { class: 'error', text: m.error }));
		card.appendChild(m.state === 'running' ? progressView(m, st) : reportView(m, st));
		cards.push(card);
	}
	if (!cards.length) cards.push(h('p', { class: 'muted', text: 'no migrations' }));
	update(root, cards);
}
