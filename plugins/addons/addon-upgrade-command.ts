import type { AddonType } from '../../src/addons/addon-type.js';
import type { CommandSpec } from '../../src/plugin-host/plugin.js';

/** `<type>:upgrade`: a minor version in place; a major one by dump and restore into a new volume. */
export function upgradeCommand(t: AddonType): Record<string, CommandSpec> {
  const n = t.name;
  return {
    [`${n}:upgrade`]: {
      summary: `Move a ${n} service to another image: a minor version in place, a major one by dump and restore into a new volume (the old volume is kept)`,
      usage: `${n}:upgrade <name> --image IMAGE:TAG`,
      examples: [`paas ${n}:upgrade mydb --image ${t.defaultImage}`],
      minArgs: 1,
      maxArgs: 1,
      flags: { image: { type: 'string', description: 'the new image' } },
      async run({ args, flags, api, stdout, signal }) {
        const r = await api.addonUpgrade.upgrade(t, args[0]!, flags.image as string | undefined, stdout, signal);
        stdout.write(
          r.mode === 'major'
            ? `Upgraded ${n} service ${args[0]} to ${r.image} (${r.version}) by dump and restore into ${r.volume}; the old volume ${r.oldVolume} is kept (docker volume rm ${r.oldVolume} when you no longer need it)\n`
            : `Upgraded ${n} service ${args[0]} to ${r.image} (${r.version}) in place\n`,
        );
        return 0;
      },
    },
  };
}
