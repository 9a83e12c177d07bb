// The live deploy log: the output of the app's running push, wherever it was started, streamed
// over SSE (/api/apps/<app>/deploy) from the start of the push; idle until the next one begins.
import { fill, h, section } from './dom.js';
import { liveStream } from './live-stream.js';
import { logView } from './log-view.js';

export function deployLogSection(ctx) {
  const status = h('p', { class: 'status', 'data-deploy-status': 'connecting' }, 'Connecting…');
  const view = logView('deploy output');
  const el = section('deploy', 'Deploy', status, view.el);
  let state = 'connecting';
  const set = (s, ...text) => {
    state = s;
    status.setAttribute('data-deploy-status', s);
    status.className = ['status', s === 'failed' ? 'error' : s === 'running' ? 'running' : ''].join(' ');
    fill(status, s === 'running' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null, ...text);
  };
  const start = () =>
    liveStream(`/api/apps/${encodeURIComponent(ctx.app)}/deploy`, {
      onOpen: () => {
        // the server replays the running push from its start: begin with an empty view
        view.clear();
        if (state === 'connecting' || state === 'running') set('connecting', 'Connected…');
      },
      onClose: (why) => {
        if (why === 'closed') set('closed', 'The deploy stream closed; reload the page to follow deploys again.');
      },
      events: {
        idle: () => {
          if (state !== 'done' && state !== 'failed') set('idle', 'No push running. A git push from any terminal shows here live.');
        },
        line: (text) => {
          if (state !== 'running') {
            view.clear();
            set('running', ' Deploying…');
          }
          view.add(text);
        },
        done: (data) => {
          let r = {};
          try {
            r = JSON.parse(data);
          } catch {}
          const release = r.release === null || r.release === undefined ? '' : String(r.release).replace(/^(?!v)/, 'v');
          if (r.ok) set('done', `Deployed ${release}`.trim());
          else set('failed', `Deploy failed: ${r.error ?? 'see the output'}`);
          ctx.refresh();
        },
      },
    });
  return { el, start };
}
