// An app's domains, each with the certificate that serves it (source, expiry, days left) or the
// default certificate when none covers it; plus the app's redirect and HSTS choices.
import { read } from './api.js';
import { ago, fill, h, section, table } from './dom.js';

const SOON_DAYS = 14;

export function domainsSection(ctx) {
  const box = h('div', { class: 'scroll' });
  const flags = h('p', { class: 'muted' });
  const el = section('domains', 'Domains', box, flags);

  const load = async () => {
    let domains;
    let certs = null;
    try {
      [domains, certs] = await Promise.all([read(['domains:list', ctx.app]), read(['certs:report', ctx.app]).catch(() => null)]);
    } catch (e) {
      fill(box, h('p', { class: 'error' }, e.message));
      return;
    }
    const certOf = (d) => certs?.certificates.find((c) => c.serves.includes(d) || c.names.includes(d));
    fill(
      box,
      table(
        ['domain', 'kind', 'certificate', 'expires'],
        domains.map((d) => {
          const c = certOf(d.domain);
          const soon = c && c.daysLeft < SOON_DAYS;
          return h(
            'tr',
            { 'data-domain': d.domain, class: soon ? 'bad' : '' },
            h('td', null, d.domain),
            h('td', null, d.kind),
            h('td', null, c ? `${c.source} (${c.issuer})` : certs ? 'default certificate' : '–'),
            h('td', { title: c?.notAfter ?? '' }, c ? `${c.notAfter.slice(0, 10)} (${c.daysLeft} days, ${ago(c.notAfter)})` : '–'),
          );
        }),
      ),
    );
    fill(flags, certs ? `HTTPS redirect ${certs.redirect ? 'on' : 'off'} · HSTS ${certs.hsts ? 'on' : 'off'}` : '');
  };
  return { el, load };
}
