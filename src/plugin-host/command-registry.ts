import { CommandErrors } from './command-errors.js';
import type { CommandCatalog, Plugin, RegisteredCommand } from './plugin.js';
import { suggest } from './suggest.js';

/** Holds every plugin's commands. Registration fails loudly on a duplicate command or alias, or an alias of nothing. */
export class CommandRegistry implements CommandCatalog {
  private readonly commands = new Map<string, RegisteredCommand>();
  private readonly aliases = new Map<string, string>();

  constructor(plugins: Plugin[]) {
    for (const p of plugins) {
      for (const [name, spec] of Object.entries(p.commands)) {
        const existing = this.commands.get(name);
        if (existing) throw CommandErrors.duplicate(name, existing.plugin, p.name);
        this.commands.set(name, { name, plugin: p.name, spec });
      }
    }
    for (const p of plugins) {
      for (const [alias, target] of Object.entries(p.aliases ?? {})) {
        if (this.commands.has(alias) || this.aliases.has(alias)) throw CommandErrors.duplicate(alias, p.name, p.name);
        if (!this.commands.has(target)) throw CommandErrors.unknown(target, null);
        this.aliases.set(alias, target);
      }
    }
  }

  resolve(name: string): RegisteredCommand {
    const cmd = this.find(name);
    if (!cmd) throw CommandErrors.unknown(name, suggest(name, [...this.commands.keys(), ...this.aliases.keys()]));
    return cmd;
  }

  /** The command `name` (or the command it is an alias of), if there is one. */
  find(name: string): RegisteredCommand | undefined {
    return this.commands.get(this.aliases.get(name) ?? name);
  }

  list(): RegisteredCommand[] {
    return [...this.commands.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  aliasesOf(name: string): string[] {
    return [...this.aliases.entries()].filter(([, t]) => t === name).map(([a]) => a);
  }
}
