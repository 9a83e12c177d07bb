import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { readStdin } from '../../src/plugin-host/read-stdin.js';
import { MAX_PEM_BUNDLE_BYTES } from '../../src/https/pem-bundle.js';

export default definePlugin({
  name: 'certs',
  commands: {
    'certs:add': {
      summary: "Add a custom certificate (PEM chain and private key on stdin); it wins over Let's Encrypt for the names it covers",
      usage: 'certs:add [app] < bundle.pem',
      examples: ['cat server.crt chain.crt server.key | paas certs:add myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdin, stdout, stderr, signal, identity }) {
        const { cert, warnings } = await api.certs.add(app, await readStdin(stdin, MAX_PEM_BUNDLE_BYTES, signal), identity);
        for (const w of warnings) stderr.write(`warning: ${w}\n`);
        stdout.write(
          `Added a custom certificate to ${app} for ${cert.names.join(', ')} (expires ${cert.notAfter}); serving ${cert.serves.join(', ') || 'no host yet'}\n`,
        );
        return 0;
      },
    },
    'certs:remove': {
      summary: "Remove the custom certificate of an app (Let's Encrypt or the default certificate serves again)",
      usage: 'certs:remove [app]',
      examples: ['paas certs:remove myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout }) {
        await api.certs.remove(app);
        stdout.write(`Removed the custom certificate of ${app}\n`);
        return 0;
      },
    },
    'certs:report': {
      summary: 'Show the certificates of an app: names, issuer, validity, source, days left, hosts served',
      usage: 'certs:report [app] [--json]',
      examples: ['paas certs:report myapp', 'paas certs:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const r = api.certs.report(app);
        if (json) {
          writeJson(stdout, r);
          return 0;
        }
        stdout.write(
          keyValues([
            ['redirect', r.redirect ? 'on (plain HTTP answers 308 to https://)' : 'off'],
            ['hsts', r.hsts ? 'on' : 'off'],
            ['uncovered hosts', r.uncovered.join(', ') || 'none'],
          ]),
        );
        if (r.certificates.length === 0) stdout.write(`${app} has no certificate: the default one serves HTTPS\n`);
        else
          stdout.write(
            table(
              ['SOURCE', 'NAMES', 'ISSUER', 'NOT BEFORE', 'NOT AFTER', 'DAYS LEFT', 'SERVES'],
              r.certificates.map((c) => [
                c.source,
                c.names.join(','),
                c.issuer,
                c.notBefore,
                c.notAfter,
                c.daysLeft,
                c.serves.join(',') || '-',
              ]),
            ),
          );
        return 0;
      },
    },
    'certs:set': {
      summary: 'HTTPS options of an app: redirect plain HTTP to HTTPS (default on), Strict-Transport-Security (default off)',
      usage: 'certs:set [app] redirect=on|off hsts=on|off',
      examples: ['paas certs:set myapp redirect=off', 'paas certs:set myapp hsts=on'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 2,
      async run({ app, args, api, stdout }) {
        const o = await api.certs.set(app, args);
        stdout.write(`HTTPS options of ${app}: redirect=${o.redirect ? 'on' : 'off'} hsts=${o.hsts ? 'on' : 'off'} (applied now)\n`);
        return 0;
      },
    },
  },
});
