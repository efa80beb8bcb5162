// Time series drawn as SVG lines. series: [{name, cls, points: [[tMs, v]]}];
// the x axis spans [t0, t1] (ms; xlabels [left, right] name its ends, by
// default the seconds ago and now), the y axis [0, ymax]; yfmt labels it.
import { s, h } from './dom.js';

const W = 360;
const H = 120;
const PAD_L = 48;
const PAD_B = 18;
const PAD_T = 8;

export function lineChart({ title, series, t0, t1, ymax, yfmt, xlabels }) {
	const plotW = W - PAD_L - 6;
	const plotH = H - PAD_B - PAD_T;
	const span = Math.max(1, t1 - t0);
	const top = ymax > 0 ? ymax : 1;
	const x = (t) => PAD_L + ((t - t0) / span) * plotW;
	const y = (v) => PAD_T + plotH - (Math.min(v, top) / top) * plotH;
	const svg = s('svg', {
		class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title,
	});
	svg.appendChild(s('rect', { class: 'chart-bg', x: PAD_L, y: PAD_T, width: plotW, height: plotH }));
	for (const f of [0, 0.5, 1]) {
		const yy = y(top * f);
		svg.appendChild(s('line', { class: 'chart-grid', x1: PAD_L, x2: PAD_L + plotW, y1: yy, y2: yy }));
		svg.appendChild(s('text', { class: 'chart-label', x: PAD_L - 4, y: yy + 3, 'text-anchor': 'end', text: yfmt(top * f) }));
	}
	const [xl, xr] = xlabels || [`-${Math.round(span / 1000)}s`, 'now'];
	svg.appendChild(s('text', { class: 'chart-label', x: PAD_L, y: H - 4, text: xl }));
	svg.appendChild(s('text', { class: 'chart-label', x: PAD_L + plotW, y: H - 4, 'text-anchor': 'end', text: xr }));
	series.forEach((se, i) => {
		if (!se.points.length) return;
		const pts = se.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
		svg.appendChild(s('polyline', {
			class: `chart-line c${i % 8}`, points: pts, 'data-series': se.name,
		}));
	});
	const legend = h('div', { class: 'legend' },
		series.map((se, i) => h('span', { class: `key c${i % 8}`, text: se.name })));
	return h('figure', { class: 'chart-box' }, h('figcaption', { text: title }), svg, legend);
}
