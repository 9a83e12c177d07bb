import type { BuildCgroup } from './build-cgroup.js';

/** The limits one build's steps run under (every RUN step of a Docker build); made by deploy/build-limiter.ts. */
export interface BuildStepLimits {
  memoryBytes: number;
  /** the memory limit as the user set it and where it comes from: `512m, from resource:limit` */
  memoryText: string;
  pids: number;
  /** epoch ms by which the build must have ended */
  deadline: number;
  /** the time limit as set: `30m` */
  timeoutText: string;
  /** `memory 512m (resource:limit), 1024 processes, time 30m`, for the build's header */
  summary: string;
  /** the per-build parent cgroup (pids and memory for all steps); null: the engine's per-step memory limit only */
  cgroup: BuildCgroup | null;
}

/** The one line of a build stopped by a limit (the push shows it as `build failed: <line>`). */
export const limitLines = {
  pids: (l: BuildStepLimits) => `the build hit its process limit (${l.pids})`,
  memory: (l: BuildStepLimits) => `the build hit its memory limit (${l.memoryText})`,
  time: (l: BuildStepLimits) => `the build ran past its time limit (${l.timeoutText}; builder:set --global build-timeout)`,
};
