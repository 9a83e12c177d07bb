/** What to run: one replica of one process type of one release. */
export interface ContainerSpec {
  app: string;
  process: string;
  release: number;
  replica: number;
  image: string;
  /** Procfile command or task: `/bin/sh -c command`, or its words handed to the image's ENTRYPOINT (entrypoint-command.ts); absent = the image's own CMD */
  command?: string;
  /** config vars; the runtime adds PORT */
  env: Record<string, string>;
  /** PORT given to the container (wins over a PORT config var) */
  port: number;
  /** default on-failure with 10 retries (Dokku's default) */
  restart?: RestartSpec;
  memoryBytes?: number;
  nanoCpus?: number;
  /** host:container[:ro] */
  binds?: string[];
  /** extra labels (tests add paas.test=1) */
  labels?: Record<string, string>;
  /** no-new-privileges, dropped capabilities and a pids limit (container-hardening.ts); absent = on */
  hardening?: boolean;
  /** pids limit of a hardened container; default DEFAULT_PIDS_LIMIT */
  pidsLimit?: number;
  /** Swarm placement constraints (`node.labels.tier==web`); the local scheduler ignores them */
  placement?: string[];
}

export interface RestartSpec {
  policy: 'on-failure' | 'always' | 'no' | 'unless-stopped';
  maxRetries?: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  app: string;
  process: string;
  release: number;
  replica: number;
  /** address on the app's network (or the shared `paas` network of older containers), null when not attached or not running */
  ip: string | null;
  port: number;
  /** Docker's State.Status: created, running, restarting, exited, paused, dead, removing */
  state: string;
  startedAt: string | null;
  restartCount: number;
  image: string;
  /** the last exit code (0 while it never exited) */
  exitCode: number;
  /** true for `paas run` containers */
  oneOff: boolean;
  /** the Swarm node a replica runs on (its name); absent for local containers */
  node?: string | null;
}

export const DEFAULT_RESTART: Required<RestartSpec> = { policy: 'on-failure', maxRetries: 10 };
