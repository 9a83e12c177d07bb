// The live log tail of an app (logs -t over SSE), per process type or all, while the page is visible.
import { fill, h, section } from './dom.js';
import { liveStream } from './live-stream.js';
import { logView } from './log-view.js';

export function logsSection(ctx) {
  const view = logView('app logs', 500);
  const select = h('select', { 'aria-label': 'process type' }, h('option', { value: '' }, 'all processes'));
  const toggle = h('button', { type: 'button' }, 'Pause');
  const status = h('span', { class: 'muted', 'data-logs-status': '' });
  const el = section('logs', 'Logs', h('div', { class: 'row' }, select, toggle, status), view.el);
  let stream = null;

  const open = () => {
    stream?.stop();
    const q = select.value ? `?process=${encodeURIComponent(select.value)}` : '';
    stream = liveStream(`/api/apps/${encodeURIComponent(ctx.app)}/logs${q}`, {
      onOpen: () => {
        // logs -t starts with the recent lines again: no duplicates
        view.clear();
        fill(status, 'following');
        toggle.textContent = 'Pause';
      },
      onClose: (why) => fill(status, why === 'hidden' ? 'paused while the page is hidden' : why === 'closed' ? 'stream closed' : 'paused'),
      events: {
        line: (text) => view.add(text),
        end: (code) => {
          stream?.stop('ended');
          fill(status, `the log command ended (exit ${code})`);
          toggle.textContent = 'Follow';
        },
      },
    });
  };
  toggle.addEventListener('click', () => {
    if (stream?.open) {
      stream.stop('paused');
      toggle.textContent = 'Follow';
    } else open();
  });
  select.addEventListener('change', open);

  /** the process types of the app's formation fill the select */
  const setTypes = (types) => {
    const have = new Set([...select.options].map((o) => o.value));
    for (const t of types) if (!have.has(t)) select.append(h('option', { value: t }, t));
  };
  return { el, start: open, setTypes };
}
