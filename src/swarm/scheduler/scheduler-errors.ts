import { errorFactory } from '../../errors/app-error.js';

/** Every error of the scheduler (scheduler:set, ps:set placement, Swarm services). A user sees one line; the cause goes to the log. */
export const SchedulerErrors = {
  /** scheduler:set got something other than local or swarm */
  badScheduler: errorFactory('PAAS_ERR_SCHEDULER_BAD_NAME', 2),
  /** the engine paas drives is not a Swarm manager (cluster:init first) */
  noSwarm: errorFactory('PAAS_ERR_SCHEDULER_NO_SWARM'),
  /** a placement constraint that does not parse */
  badPlacement: errorFactory('PAAS_ERR_SCHEDULER_BAD_PLACEMENT', 2),
  /** a placement constraint no ready, active node matches */
  noMatchingNode: errorFactory('PAAS_ERR_SCHEDULER_NO_MATCHING_NODE'),
  /** a Swarm service could not be created, or its task failed or never ran */
  taskFailed: errorFactory('PAAS_ERR_SCHEDULER_TASK_FAILED'),
  /** the Swarm API answered with an unexpected error */
  swarm: errorFactory('PAAS_ERR_SCHEDULER_SWARM', 1, 503),
} as const;
