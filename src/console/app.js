// The console's entry point: session (login form or the node), the refresh
// loop, and the actions that are not dialogs (suspend, resume, logout).
import { get, post, del, seg, onUnauthorized, api } from './api.js';
import { h } from './dom.js';
import { renderNode } from './node.js';
import { renderMigrations } from './migrations.js';
import { pollEvents } from './events.js';
import { setupAdvise } from './advise.js';
import { onChange } from './dialogs.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 1000;
const HISTORY_S = 300;
let timer = null;
let busy = false;

function notify(msg, isError) {
	const n = $('notice');
	n.textContent = msg;
	n.className = isError ? 'notice error' : 'notice';
	n.hidden = false;
}

function showLogin(msg) {
	if (timer) clearInterval(timer);
	timer = null;
	$('main').hidden = true;
	$('logout').hidden = true;
	$('login').hidden = false;
	const e = $('login-error');
	e.textContent = msg || '';
	e.hidden = !msg;
	$('token').focus();
}

const actions = {
	async suspend(inst) {
		try {
			await post(`/v1/instances/${seg(inst.id)}/suspend`);
			notify(`${inst.id}: workload suspended`);
		} catch (e) {
			notify(e.message, true);
		}
		refresh();
	},
	async resume(inst) {
		try {
			const r = await post(`/v1/instances/${seg(inst.id)}/resume`);
			notify(`${inst.id}: workload running on ${r.instance}`);
		} catch (e) {
			notify(e.message, true);
		}
		refresh();
	},
};

async function optional(path) {
	try {
		return await get(path);
	} catch (e) {
		if (e.status === 401) throw e;
		return null;
	}
}

async function refresh() {
	if (busy) return;
	busy = true;
	try {
		const [gpus, instances, profiles, history, migrations, node] = await Promise.all([
			get('/v1/gpus'), get('/v1/instances'), get('/v1/profiles'),
			optional(`/v1/history?seconds=${HISTORY_S}`), get('/v1/migrations'), optional('/v1/node'),
		]);
		const sched = new Map();
		await Promise.all(gpus.gpus.filter((g) => g.mode === 'timeslice').map(async (g) => {
			const sc = await optional(`/v1/gpus/${seg(g.index)}/sched`);
			if (sc) sched.set(g.index, sc);
		}));
		const st = {
			gpus: gpus.gpus, instances: instances.instances, profiles: profiles.profiles,
			history, migrations: migrations.migrations, sched,
		};
		if (node) $('nodeinfo').textContent = `${node.backend} node · gpuvisord ${node.version}`;
		renderNode($('gpus'), st, actions);
		await renderMigrations($('migrations'), st.migrations, notify);
		await pollEvents($('events'));
		$('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
		document.body.dataset.ready = '1';
	} catch (e) {
		if (e.status !== 401) notify(e.message, true);
	} finally {
		busy = false;
	}
}

function startMain() {
	$('login').hidden = true;
	$('main').hidden = false;
	$('logout').hidden = false;
	refresh();
	if (!timer) timer = setInterval(refresh, REFRESH_MS);
}

async function start() {
	onUnauthorized(() => showLogin('your session ended: log in again'));
	onChange(refresh);
	setupAdvise($('advise-form'), $('advise-out'));
	$('notice').addEventListener('click', () => { $('notice').hidden = true; });
	$('login-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		try {
			await post('/v1/session', { token: $('token').value });
			$('token').value = '';
			startMain();
		} catch (e) {
			showLogin(e.status === 401 ? `wrong token: ${e.message}` : e.message);
		}
	});
	$('logout').addEventListener('click', async () => {
		try {
			await del('/v1/session');
		} catch (e) {
			/* the session is gone either way */
		}
		showLogin('logged out');
	});
	try {
		await api('GET', '/v1/session');
		startMain();
	} catch (e) {
		showLogin(e.status === 401 ? '' : e.message);
	}
}

start();
