// An app's config vars: values masked until revealed (one var or all), set (a new release, rolled
// out health-gated, or --no-restart) and unset (a second click confirms).
import { act, read } from './api.js';
import { busy, errorBox, fill, h, section } from './dom.js';

const MASK = '••••••••';

export function configSection(ctx) {
  const err = errorBox();
  const box = h('div', { class: 'scroll' });
  const revealAll = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Reveal all');
  const key = h('input', {
    type: 'text',
    name: 'key',
    placeholder: 'KEY',
    'aria-label': 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const value = h('input', {
    type: 'text',
    name: 'value',
    placeholder: 'value',
    'aria-label': 'value',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const noRestart = h('input', { type: 'checkbox', name: 'no-restart' });
  const save = h('button', { type: 'submit' }, 'Set');
  const form = h('form', { class: 'row config-form' }, key, value, h('label', { class: 'check' }, noRestart, ' no restart'), save);
  const el = section('config', 'Config', err, h('div', { class: 'row' }, revealAll), box, form);
  let all = false;
  const shown = new Set();
  let vars = {};

  const render = () => {
    const keys = Object.keys(vars).sort();
    revealAll.textContent = all ? 'Hide all' : 'Reveal all';
    revealAll.setAttribute('aria-pressed', String(all));
    if (keys.length === 0) {
      fill(box, h('p', { class: 'muted' }, 'No config vars.'));
      return;
    }
    fill(
      box,
      h(
        'table',
        { class: 'table config' },
        h(
          'tbody',
          null,
          keys.map((k) => {
            const visible = all || shown.has(k);
            const reveal = h('button', { type: 'button', class: 'small' }, visible ? 'Hide' : 'Reveal');
            reveal.addEventListener('click', () => {
              if (shown.has(k) || all) {
                shown.delete(k);
                all = false;
              } else shown.add(k);
              render();
            });
            const unset = h('button', { type: 'button', class: 'small danger' }, 'Unset');
            let armed = false;
            unset.addEventListener('click', () => {
              if (!armed) {
                armed = true;
                unset.textContent = `Confirm unset ${k}`;
                return;
              }
              busy(unset, 'Unsetting…', err, async () => {
                try {
                  await act(['config:unset', ctx.app, k, ...(noRestart.checked ? ['--no-restart'] : [])]);
                } finally {
                  await ctx.refresh();
                }
              });
            });
            return h(
              'tr',
              { 'data-key': k },
              h('th', { scope: 'row' }, k),
              h('td', { class: ['value', visible ? '' : 'masked'], 'data-value': '' }, visible ? vars[k] : MASK),
              h('td', { class: 'actions' }, reveal, unset),
            );
          }),
        ),
      ),
    );
  };

  revealAll.addEventListener('click', () => {
    all = !all;
    shown.clear();
    render();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const k = key.value.trim();
    if (!k) return;
    busy(save, 'Saving…', err, async () => {
      try {
        await act(['config:set', ctx.app, `${k}=${value.value}`, ...(noRestart.checked ? ['--no-restart'] : [])]);
        key.value = '';
        value.value = '';
      } finally {
        await ctx.refresh();
      }
    });
  });

  const load = async () => {
    try {
      vars = await read(['config:show', ctx.app]);
      render();
    } catch (e) {
      fill(box, h('p', { class: 'error' }, e.message));
    }
  };
  return { el, load };
}
