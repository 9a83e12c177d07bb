import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'domains',
  commands: {
    url: {
      summary: "Print the app's URL, with scheme (https once the host has a certificate)",
      usage: 'url [app]',
      examples: ['paas url myapp', 'curl "$(paas url myapp)/health"'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const url = api.domains.urls(app)[0]!;
        if (json) writeJson(stdout, url);
        else stdout.write(`${url}\n`);
        return 0;
      },
    },
    urls: {
      summary: 'Print every URL of the app (the global host first, then its custom domains), with scheme',
      usage: 'urls [app] [--json]',
      examples: ['paas urls myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const urls = api.domains.urls(app);
        if (json) writeJson(stdout, urls);
        else stdout.write(urls.map((u) => `${u}\n`).join(''));
        return 0;
      },
    },
    'domains:add': {
      summary: 'Route an extra domain to an app (point its DNS at this server)',
      usage: 'domains:add [app] <domain>',
      examples: ['paas domains:add myapp www.example.com'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, identity }) {
        const d = await api.domains.add(app, args[0]!, identity);
        stdout.write(`Added ${d} to ${app}\n`);
        // HTTPS: the proxy learns which certificate serves the new host; Let's Encrypt re-issues for the new set
        await api.letsencrypt.hostsChanged(app, (line) => stdout.write(`${line}\n`), { by: 'command', admin: identity.role === 'admin' });
        return 0;
      },
    },
    'domains:remove': {
      summary: 'Stop routing a domain to an app',
      usage: 'domains:remove [app] <domain>',
      examples: ['paas domains:remove myapp www.example.com'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, identity }) {
        const d = await api.domains.remove(app, args[0]!);
        stdout.write(`Removed ${d} from ${app}\n`);
        await api.letsencrypt.hostsChanged(app, (line) => stdout.write(`${line}\n`), { by: 'command', admin: identity.role === 'admin' });
        return 0;
      },
    },
    'domains:list': {
      summary: 'List the domains routed to an app (the first is <app>.<global domain>)',
      usage: 'domains:list [app] [--json]',
      examples: ['paas domains:list myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const list = api.domains.list(app);
        if (json) writeJson(stdout, list);
        else
          stdout.write(
            table(
              ['DOMAIN', 'KIND'],
              list.map((d) => [d.domain, d.kind]),
            ),
          );
        return 0;
      },
    },
    'domains:set-global': {
      summary: 'Set the global domain: app foo is then served at foo.<domain>; every app is rerouted',
      usage: 'domains:set-global <domain>',
      examples: ['paas domains:set-global apps.example.com'],
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout }) {
        const r = await api.domains.setGlobal(args[0]!);
        // every app's global host changed: certificates follow (Let's Encrypt apps re-issue at the next renewal check)
        await api.certs.sync();
        stdout.write(`Global domain set to ${r.domain}; rerouted ${r.rerouted.length} app(s)\n`);
        if (r.failed.length) stdout.write(`warning: could not reroute ${r.failed.join(', ')} (they pick it up at their next deploy)\n`);
        return 0;
      },
    },
  },
});
