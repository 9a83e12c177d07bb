import { AppError } from '../../src/errors/app-error.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const CHOICES = ['dockerfile', 'pack', 'template', 'auto'];

export default definePlugin({
  name: 'builder',
  commands: {
    'builder:set': {
      summary: 'Choose how the app is built: dockerfile, pack, template, or auto (Dockerfile, then pack, then template)',
      usage: 'builder:set [app] <dockerfile|pack|template|auto>',
      examples: ['paas builder:set myapp pack', 'paas builder:set myapp auto'],
      app: 'required',
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, services, stdout }) {
        const b = args[0]!.toLowerCase();
        if (!CHOICES.includes(b))
          throw new AppError('PAAS_ERR_BUILDER_UNKNOWN', `unknown builder '${args[0]}' (use ${CHOICES.join(', ')})`, { exitCode: 2 });
        if (b === 'auto') services.state.appSettings.unset(app, 'builder');
        else services.state.appSettings.set(app, 'builder', b);
        stdout.write(`Builder of ${app} set to ${b} (applies at the next push)\n`);
        return 0;
      },
    },
  },
});
