import type { CommandCatalog, RegisteredCommand } from './plugin.js';

/** Help for one command: usage, summary, flags, aliases and examples. */
export function commandHelp(cmd: RegisteredCommand, registry: CommandCatalog): string {
  const lines = [`Usage: paas ${cmd.spec.usage}`, '', `  ${cmd.spec.summary}`];
  const flags = Object.entries(cmd.spec.flags ?? {});
  if (flags.length) {
    lines.push('', 'Flags:');
    for (const [name, f] of flags)
      lines.push(`  ${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ' VALUE' : ''}  ${f.description}`);
  }
  const aliases = registry.aliasesOf(cmd.name);
  if (aliases.length) lines.push('', `Aliases: ${aliases.join(', ')}`);
  if (cmd.spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of cmd.spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The command list for `paas help`. */
export function overviewHelp(registry: CommandCatalog): string {
  const cmds = registry.list();
  const width = Math.max(...cmds.map((c) => c.name.length));
  const lines = ['Usage: paas <command> [app] [args] [--app NAME] [--json]', '', 'Commands:'];
  for (const c of cmds) lines.push(`  ${c.name.padEnd(width)}  ${c.spec.summary}`);
  lines.push('', "Run 'paas help <command>' for a command's flags and examples.");
  return `${lines.join('\n')}\n`;
}
