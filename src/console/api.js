// Talks to gpuvisord's API on the page's own origin, nothing else.
// Contract: every call resolves to the parsed JSON body (or null for an
// empty one) or throws an ApiError carrying the daemon's own error message,
// so the page shows what the CLI would print. A 401 also tells the app to
// show the login form (onUnauthorized).

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

let unauthorized = () => {};

// The app registers what happens when the session is gone (login form).
export function onUnauthorized(fn) {
	unauthorized = fn;
}

// Every non-GET request carries X-Gpuvisor-Console: 1 (the daemon refuses
// a cookie-authenticated change without it, a cross-site form cannot set it).
export async function api(method, path, body) {
	const opts = { method, credentials: 'same-origin', headers: {} };
	if (method !== 'GET') opts.headers['X-Gpuvisor-Console'] = '1';
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, opts);
	} catch (e) {
		throw new ApiError(0, 'transport', 'cannot reach gpuvisord: ' + e.message);
	}
	const text = await res.text();
	let data = null;
	if (text.length) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = null;
		}
	}
	if (!res.ok) {
		const err = data && data.error ? data.error : null;
		const msg = err && typeof err.message === 'string' ? err.message : 'HTTP ' + res.status;
		if (res.status === 401 && path !== '/v1/session') unauthorized();
		throw new ApiError(res.status, err ? err.code : 'http', msg);
	}
	return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// Path segment for an id or GPU reference the daemon gave us.
export const seg = (s) => encodeURIComponent(String(s));
