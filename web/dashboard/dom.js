// Building the page from data without ever parsing it as HTML: every text goes through textContent
// (createTextNode), attributes through setAttribute, handlers through addEventListener.

const SVG = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'style' || k === 'srcdoc' || k === 'innerHTML') throw new Error(`h(): '${k}' is not allowed`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** h('a', {href, class, onclick}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** the same for SVG elements */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** replaces an element's children */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** 1536 -> "1.5 KiB" */
export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** an ISO time -> "3 min ago" / "in 5 d" */
export function ago(iso) {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  const d = (Date.now() - t) / 1000;
  const abs = Math.abs(d);
  const v =
    abs < 60
      ? `${Math.round(abs)} s`
      : abs < 3600
        ? `${Math.round(abs / 60)} min`
        : abs < 86400
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86400)} d`;
  return d >= 0 ? `${v} ago` : `in ${v}`;
}

/** a number with a fixed precision, or a dash */
export function num(n, digits = 1) {
  return n === null || n === undefined || Number.isNaN(n) ? '–' : Number(n).toFixed(digits);
}

/** a duration in seconds -> "120 ms" / "1.2 s" */
export function secs(n) {
  if (n === null || n === undefined) return '–';
  return n < 1 ? `${Math.round(n * 1000)} ms` : `${n.toFixed(2)} s`;
}

/** The page's error line: the CLI's one line, as text */
export function errorLine(el, message) {
  if (message) fill(el, message);
  el.hidden = !message;
}

/**
 * A button that runs a long action: while it runs the button is disabled and shows `busy`
 * ("Scaling…") with a spinner; a failure goes to `errorEl` as one line.
 */
export async function busy(button, label, errorEl, fn) {
  const before = [...button.childNodes];
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  fill(button, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` ${label}`);
  if (errorEl) errorEl.hidden = true;
  try {
    return await fn();
  } catch (e) {
    if (errorEl) errorEl.hidden = false;
    if (errorEl) fill(errorEl, e instanceof Error ? e.message : String(e));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.replaceChildren(...before);
  }
}

/** An error paragraph, hidden until it has a line */
export function errorBox() {
  const el = h('p', { class: 'error', role: 'alert' });
  el.hidden = true;
  return el;
}

/** A section of a page with a heading */
export function section(id, title, ...children) {
  return h('section', { class: 'card', id }, h('h2', null, title), ...children);
}

/** A table with a header row and `rows` (tr elements) */
export function table(headers, rows, cls = 'table') {
  return h(
    'table',
    { class: cls },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headers.map((t) => h('th', null, t)),
      ),
    ),
    h('tbody', null, rows),
  );
}
