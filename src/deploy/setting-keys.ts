// The app_settings keys that plugins and the deploy code share, in one place.

/** app setting: the formation saved by `ps:stop`, restored by `ps:start`; present = the app is stopped */
export const STOPPED_KEY = 'stopped';
/** app setting: per-app cap for `apps:scale` */
export const MAX_REPLICAS_KEY = 'max-replicas';
/** app setting: the Docker restart policy of the app's containers (`ps:set restart-policy`), read by `Rollout.spec()` */
export const RESTART_POLICY_KEY = 'restart-policy';
/** app setting: the builder a push uses (`builder:set`); absent = auto */
export const BUILDER_KEY = 'builder';
/** app setting: Docker build args (`ARG` values) for Dockerfile and template builds, `--env` for pack */
export const BUILD_ARGS_KEY = 'build-args';
/** app setting: the health check set by `checks:set`, over the release's app.json and the defaults */
export const CHECKS_KEY = 'checks';
