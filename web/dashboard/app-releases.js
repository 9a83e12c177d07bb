// One app's releases, newest first, each with what changed against the one before it (image,
// config keys added or removed, formation) and a rollback to it (a second click confirms).
import { act, read } from './api.js';
import { ago, busy, errorBox, fill, h, section, table } from './dom.js';

const SHOWN = 15;

/** What changed from `older` to `r`, as short phrases */
export function changes(r, older) {
  if (!older) return ['first release'];
  const out = [];
  if (r.image !== older.image) out.push(`image ${r.image ?? '–'}`);
  const before = new Set(older.configKeys ?? []);
  const after = new Set(r.configKeys ?? []);
  for (const k of after) if (!before.has(k)) out.push(`+${k}`);
  for (const k of before) if (!after.has(k)) out.push(`−${k}`);
  const types = new Set([...Object.keys(r.formation ?? {}), ...Object.keys(older.formation ?? {})]);
  for (const p of types) {
    const a = older.formation?.[p] ?? 0;
    const b = r.formation?.[p] ?? 0;
    if (a !== b) out.push(`${p} ${a}→${b}`);
  }
  return out;
}

export function releasesSection(ctx) {
  const err = errorBox();
  const box = h('div', { class: 'scroll' });
  const el = section('releases', 'Releases', err, box);

  const rollbackButton = (version) => {
    const b = h('button', { type: 'button', class: 'danger', 'data-rollback': `v${version}` }, 'Roll back');
    let armed = null;
    b.addEventListener('click', () => {
      if (!armed) {
        b.textContent = `Confirm: roll back to v${version}`;
        armed = setTimeout(() => {
          armed = null;
          b.textContent = 'Roll back';
        }, 6000);
        return;
      }
      clearTimeout(armed);
      armed = null;
      b.textContent = 'Roll back';
      busy(b, 'Rolling back…', err, async () => {
        try {
          await act(['releases:rollback', ctx.app, `v${version}`]);
        } finally {
          await ctx.refresh();
        }
      });
    });
    return b;
  };

  const load = async () => {
    let list;
    try {
      list = await read(['releases', ctx.app, '-n', String(SHOWN + 1)]);
    } catch (e) {
      fill(box, h('p', { class: 'error' }, e.message));
      return;
    }
    if (list.length === 0) {
      fill(box, h('p', { class: 'muted' }, 'No releases yet: git push paas main'));
      return;
    }
    fill(
      box,
      table(
        ['release', 'status', 'created', 'what changed', ''],
        list.slice(0, SHOWN).map((r, i) =>
          h(
            'tr',
            { 'data-version': `v${r.version}`, class: r.status === 'failed' ? 'bad' : r.status === 'live' ? 'live' : '' },
            h('td', null, `v${r.version}`),
            h(
              'td',
              null,
              h(
                'span',
                { class: ['badge', r.status === 'live' ? 'badge-good' : r.status === 'failed' ? 'badge-bad' : 'badge-muted'] },
                r.status,
              ),
            ),
            h('td', { title: r.createdAt }, ago(r.createdAt)),
            h(
              'td',
              null,
              h('div', null, r.description ?? ''),
              h(
                'ul',
                { class: 'changes' },
                changes(r, list[i + 1]).map((c) => h('li', null, c)),
              ),
            ),
            h('td', null, r.status === 'superseded' ? rollbackButton(r.version) : null),
          ),
        ),
        'table releases',
      ),
    );
  };
  return { el, load };
}
