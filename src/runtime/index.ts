export { ContainerCrashedError, ContainerRuntime, type ContainerRuntimeOptions, CRASH_LOG_LINES } from './container-runtime.js';
export { type ContainerInfo, type ContainerSpec, DEFAULT_RESTART, type RestartSpec } from './container-spec.js';
export { containerName, LABELS } from './container-naming.js';
export type { ContainerStats } from './container-stats.js';
export type { DockerEvent } from './docker-events.js';
export { type LogLine, LogStream, type LogStreamOptions } from './log-stream.js';
export type { OneOffIo, TerminalSize } from './one-off-runner.js';
export { RuntimeErrors } from './runtime-errors.js';
