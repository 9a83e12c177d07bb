import { joinRunCommand } from '../../src/inputs/operation-inputs.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'run',
  commands: {
    run: {
      summary: "Run a one-off command in a new container of the current release, with the app's config (a pty when the client has one)",
      usage: 'run [app] <command...>',
      examples: ['paas run myapp sh', 'paas run myapp -- ls -la /app', "paas run myapp 'echo $DATABASE_URL'"],
      app: 'required',
      access: 'app',
      minArgs: 1,
      passThrough: true,
      wantsTty: true,
      async run({ app, args, api, stdin, stdout, stderr, signal, pty }) {
        return api.logs.run(app, joinRunCommand(args), { stdin, stdout, stderr, signal, pty });
      },
    },
  },
});
