// Helpers of the console's browser tests (run by run.sh, which starts
// gpuvisord and exports GV_URL, GV_TOKEN, GV_SOCK, GV_BIN_DIR, ...).
//
// Every page opened through open() records each request it makes; check()
// at the end fails the test if one went anywhere but 127.0.0.1, or if the
// page hit a script error or a Content-Security-Policy refusal.
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const URL_BASE = process.env.GV_URL;
export const TOKEN = process.env.GV_TOKEN;
const BIN = process.env.GV_BIN_DIR;
const SOCK = process.env.GV_SOCK;
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DOCS = path.resolve(HERE, '../../docs');

export function fail(msg) {
	throw new Error(msg);
}

export function assert(cond, msg) {
	if (!cond) fail(msg);
}

export function eq(got, want, what) {
	const g = JSON.stringify(got);
	const w = JSON.stringify(want);
	if (g !== w) fail(`${what}: got ${g}, expected ${w}`);
}

export function step(msg) {
	console.log(`\n-- ${msg}`);
}

// The CLI on the daemon's Unix socket: {rc, out, err}.
export function gv(...args) {
	try {
		const out = execFileSync(`${BIN}/gpuvisor`, ['--socket', SOCK, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
		return { rc: 0, out, err: '' };
	} catch (e) {
		return { rc: e.status, out: e.stdout || '', err: e.stderr || '' };
	}
}

export function gvOk(...args) {
	const r = gv(...args);
	if (r.rc !== 0) fail(`gpuvisor ${args.join(' ')} exited ${r.rc}: ${r.out}${r.err}`);
	return r.out;
}

export function gvJson(...args) {
	return JSON.parse(gvOk(...args, '--json'));
}

// The API on the daemon's Unix socket (as root, what the CLI does):
// resolves to {status, body}.
export function apiSock(method, p, body) {
	return new Promise((resolve, reject) => {
		const data = body === undefined ? null : JSON.stringify(body);
		const req = http.request({
			socketPath: SOCK, path: p, method,
			headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
		}, (res) => {
			let t = '';
			res.on('data', (d) => { t += d; });
			res.on('end', () => resolve({ status: res.statusCode, body: t ? JSON.parse(t) : null }));
		});
		req.on('error', reject);
		if (data) req.write(data);
		req.end();
	});
}

// A background process (the trap of run.sh kills what the daemon knows).
export function bg(cmd, args, opts) {
	const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
	p.output = '';
	p.stdout.on('data', (d) => { p.output += d; });
	p.stderr.on('data', (d) => { p.output += d; });
	p.done = new Promise((res) => p.on('exit', (code) => res(code)));
	return p;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, fn, ms = 20000) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last) return last;
		} catch (e) {
			last = e.message;
		}
		await sleep(100);
	}
	fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

let browser;
const pages = [];

// A fresh browser context (no cookie) and a page in it, recording requests.
export async function open() {
	if (!browser) {
		browser = await chromium.launch({
			executablePath: '/usr/bin/chromium', headless: true,
			// root cannot use chromium's sandbox (tests run as root in CI)
			args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
		});
	}
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.requests = [];
	page.problems = [];
	page.on('request', (r) => page.requests.push(r.url()));
	page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		const t = m.text();
		if (/Content Security Policy|Refused to/i.test(t)) page.problems.push(`CSP: ${t}`);
	});
	pages.push(page);
	return page;
}

// The login form with the daemon's token; waits for the node view.
export async function login(page, token = TOKEN) {
	await page.goto(`${URL_BASE}/`);
	await page.locator('#login-form').waitFor({ state: 'visible' });
	await page.fill('#token', token);
	await page.click('#login-form button[type=submit]');
}

export async function loggedIn(page) {
	await page.locator('#main').waitFor({ state: 'visible' });
	await page.waitForFunction(() => document.body.dataset.ready === '1');
}

// Waits until the page has refreshed at least once more.
export async function refreshed(page) {
	const before = await page.textContent('#updated');
	await page.waitForFunction((b) => document.getElementById('updated').textContent !== b, before, { timeout: 10000 }).catch(() => {});
	await sleep(300);
}

export async function screenshot(page, name, locator) {
	if (process.env.GV_CONSOLE_SCREENSHOTS !== '1') return;
	const file = path.join(DOCS, `console-${name}.png`);
	if (locator) await locator.screenshot({ path: file });
	else await page.screenshot({ path: file, fullPage: true });
	console.log(`screenshot ${file}`);
}

// Every request of every page went to 127.0.0.1; no script error, no CSP
// refusal.
function check() {
	let n = 0;
	for (const p of pages) {
		for (const u of p.requests) {
			n++;
			const host = new URL(u).hostname;
			if (host !== '127.0.0.1') fail(`the page made a request that left the machine: ${u}`);
		}
		if (p.problems.length) fail(`page problems:\n${p.problems.join('\n')}`);
	}
	console.log(`${n} requests, all to 127.0.0.1`);
}

// run(async () => {...}): runs the test, checks, closes the browser; exit 1
// with the message on any failure.
export async function run(fn) {
	let rc = 0;
	try {
		await fn();
		check();
	} catch (e) {
		console.error(`FAIL: ${e.stack || e.message}`);
		rc = 1;
	}
	if (browser) await browser.close().catch(() => {});
	process.exit(rc);
}
