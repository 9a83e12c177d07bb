// Maintenance (every request gets a 503 page with a message) and pause (requests are held, not
// dropped, until resume or a maximum), with the proxy's current state of both.
import { act, read } from './api.js';
import { busy, errorBox, fill, h, section } from './dom.js';

export function trafficSection(ctx) {
  const err = errorBox();
  const state = h('p', { 'data-traffic-state': '' }, '…');
  const message = h('input', { type: 'text', placeholder: 'maintenance message (optional)', 'aria-label': 'maintenance message' });
  const max = h('input', { type: 'text', value: '30s', size: 5, 'aria-label': 'longest pause' });
  const button = (label, busyLabel, argv) => {
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', () =>
      busy(b, busyLabel, err, async () => {
        try {
          await act(argv());
        } finally {
          await ctx.refresh();
        }
      }),
    );
    return b;
  };
  const el = section(
    'traffic',
    'Maintenance and pause',
    err,
    state,
    h(
      'div',
      { class: 'row' },
      message,
      button('Maintenance on', 'Switching…', () => [
        'ps:maintenance',
        ctx.app,
        'on',
        ...(message.value.trim() ? ['--message', message.value.trim()] : []),
      ]),
      button('Maintenance off', 'Switching…', () => ['ps:maintenance', ctx.app, 'off']),
    ),
    h(
      'div',
      { class: 'row' },
      max,
      button('Pause', 'Pausing…', () => ['ps:pause', ctx.app, '--max', max.value.trim() || '30s']),
      button('Resume', 'Resuming…', () => ['ps:resume', ctx.app]),
    ),
  );

  const load = async () => {
    try {
      const r = await read(['proxy:report', ctx.app]);
      const paused = r.pausedUntil !== null && r.pausedUntil > Date.now();
      ctx.setTraffic({ maintenance: r.maintenance !== null, paused });
      fill(
        state,
        h(
          'span',
          { class: ['badge', r.maintenance !== null ? 'badge-warn' : 'badge-good'] },
          r.maintenance !== null ? 'maintenance on' : 'serving',
        ),
        r.maintenance !== null ? ` “${r.maintenance}”` : '',
        ' ',
        h(
          'span',
          { class: ['badge', paused ? 'badge-warn' : 'badge-muted'] },
          paused ? `paused until ${new Date(r.pausedUntil).toISOString().slice(11, 19)} UTC` : 'not paused',
        ),
      );
    } catch (e) {
      fill(state, h('span', { class: 'muted' }, `state unknown (${e.message})`));
    }
  };
  return { el, load };
}
