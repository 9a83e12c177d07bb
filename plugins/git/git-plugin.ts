import type { ImageDeployResult } from '../../src/services/deploy-service.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const live = (r: ImageDeployResult) => `-----> Release v${r.release.version} live at ${r.url} (${r.elapsed})\n`;

export default definePlugin({
  name: 'git',
  commands: {
    'git:load-image': {
      summary: 'Deploy an image built elsewhere: reads `docker save IMAGE:TAG` output on stdin, then rolls it out health-gated',
      usage: 'git:load-image [app] IMAGE:TAG < image.tar',
      examples: [
        'docker save myapp:1.4 | ssh -p 2222 paas@HOST git:load-image myapp myapp:1.4',
        'docker save myapp:1.4 | paas git:load-image myapp:1.4',
      ],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdin, stdout, signal, identity }) {
        stdout.write(live(await api.deploys.loadImage(app, args[0]!, stdin, identity, stdout, signal)));
        return 0;
      },
    },
    'git:from-image': {
      summary: 'Deploy an image the Docker engine has (or can pull) as a new release, health-gated',
      usage: 'git:from-image [app] IMAGE:TAG',
      examples: ['paas git:from-image myapp registry.example.com/team/myapp:1.4'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, api, stdout, signal, identity }) {
        stdout.write(live(await api.deploys.fromImage(app, args[0]!, identity, stdout, signal)));
        return 0;
      },
    },
  },
});
