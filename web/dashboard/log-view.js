// A scrolling box of text lines (deploy output, the log tail): each line is a text node, the box
// keeps the newest `max` lines and follows the end unless the user scrolled up.
import { h } from './dom.js';

export function logView(label, max = 1000) {
  const el = h('pre', { class: 'log', tabindex: '0', 'aria-label': label, role: 'log' });
  return {
    el,
    add(text) {
      const follow = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      el.append(h('div', { class: 'log-line' }, text));
      while (el.childElementCount > max) el.firstElementChild.remove();
      if (follow) el.scrollTop = el.scrollHeight;
    },
    clear() {
      el.replaceChildren();
    },
  };
}
