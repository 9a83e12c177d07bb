// Runs `runProxy` as its own process, the way `paas proxy` does; options come as JSON in argv[2].
import { runProxy } from '../../../src/proxy/proxy-main.js';

await runProxy(JSON.parse(process.argv[2]));
