// DOM building without HTML parsing: every text goes through textContent
// (or createTextNode), so nothing the daemon or a user returns can become
// markup. Styles are classes or element.style properties (the CSP forbids
// style attributes in markup).

const SVGNS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.setAttribute('class', v);
		else if (k === 'text') el.textContent = String(v);
		else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k === 'value' && 'value' in el) el.value = v;
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

// h('div', {class: 'x', text: 'y'}, child...): an HTML element.
export function h(tag, attrs, ...children) {
	return fill(document.createElement(tag), attrs, children);
}

// s('rect', {...}): an SVG element.
export function s(tag, attrs, ...children) {
	return fill(document.createElementNS(SVGNS, tag), attrs, children);
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

export function mib(n) {
	if (n === null || n === undefined) return '-';
	if (n >= 1024) return (n / 1024).toFixed(n % 1024 ? 1 : 0) + ' GiB';
	return n + ' MiB';
}

export function bytes(n) {
	if (n === null || n === undefined) return '-';
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	let v = n;
	while (v >= 1024 && i < u.length - 1) {
		v /= 1024;
		i++;
	}
	return (i ? v.toFixed(1) : String(v)) + ' ' + u[i];
}

export function pct(x) {
	return Math.round(x * 100) + '%';
}
