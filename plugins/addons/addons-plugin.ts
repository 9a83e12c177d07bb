import { ADDON_TYPES } from '../../src/addons/addon-types.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { lifecycleCommands } from './addon-commands.js';
import { dataCommands } from './addon-data-commands.js';
import { upgradeCommand } from './addon-upgrade-command.js';

/** `postgres:*` and `redis:*` (and every add-on type listed in src/addons): the same verbs for each. */
export default definePlugin({
  name: 'addons',
  commands: Object.fromEntries(
    ADDON_TYPES.flatMap((t) => Object.entries({ ...lifecycleCommands(t), ...dataCommands(t), ...upgradeCommand(t) })),
  ),
});
