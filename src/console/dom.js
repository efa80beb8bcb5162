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

// Brings OLD in line with NEU in place, keeping every node whose content
// is the same, so a refresh does not replace a button under the pointer
// (a click whose press and release land on different nodes is lost).
// Nodes that differ in kind or in their number of children are replaced
// whole; equal ones keep their old listeners, so handlers must look up the
// current state when they run, not capture what was rendered.
function morph(old, neu) {
	if (old.isEqualNode(neu)) return;
	if (old.nodeType !== neu.nodeType || old.nodeName !== neu.nodeName
		|| old.childNodes.length !== neu.childNodes.length || old.nodeType !== Node.ELEMENT_NODE) {
		if (old.nodeType === Node.TEXT_NODE && neu.nodeType === Node.TEXT_NODE) old.data = neu.data;
		else old.replaceWith(neu);
		return;
	}
	// styles go through the CSSOM: the CSP refuses a style attribute set
	// as markup (setAttribute), not properties set from a script
	if (old.style && neu.style && old.style.cssText !== neu.style.cssText) old.style.cssText = neu.style.cssText;
	for (const a of [...old.attributes]) if (a.name !== 'style' && !neu.hasAttribute(a.name)) old.removeAttribute(a.name);
	for (const a of [...neu.attributes]) {
		if (a.name !== 'style' && old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
	}
	const olds = [...old.childNodes];
	const neus = [...neu.childNodes];
	for (let i = 0; i < olds.length; i++) morph(olds[i], neus[i]);
}

// root's children become NODES, keeping what did not change (see morph).
export function update(root, nodes) {
	const olds = [...root.childNodes];
	if (olds.length !== nodes.length) {
		root.replaceChildren(...nodes);
		return;
	}
	for (let i = 0; i < olds.length; i++) morph(olds[i], nodes[i]);
}
