import type { AddonDataService } from '../addons/addon-data-service.js';
import type { AddonScheduler } from '../addons/addon-scheduler.js';
import type { AddonService } from '../addons/addon-service.js';
import type { AddonTargetService } from '../addons/addon-target-service.js';
import type { AddonUpgradeService } from '../addons/addon-upgrade-service.js';
import type { AppService } from '../services/app-service.js';
import type { CertService } from '../https/cert-service.js';
import type { CronService } from '../cron/cron-service.js';
import type { DashboardService } from '../dashboard/dashboard-service.js';
import type { BuilderService } from '../services/builder-service.js';
import type { ConfigService } from '../services/config-service.js';
import type { DeployService } from '../services/deploy-service.js';
import type { DomainService } from '../services/domain-service.js';
import type { FormationService } from '../services/formation-service.js';
import type { KeyService } from '../services/key-service.js';
import type { LetsEncryptService } from '../https/letsencrypt-service.js';
import type { LogsService } from '../services/logs-service.js';
import type { NotificationService } from '../notifications/notification-service.js';
import type { MetricsService } from '../metrics/metrics-service.js';
import type { PortService } from '../services/port-service.js';
import type { ProcessService } from '../services/process-service.js';
import type { ReleaseService } from '../services/release-service.js';
import type { SchedulerService } from '../services/scheduler-service.js';
import type { SettingsService } from '../services/settings-service.js';
import type { StorageService } from '../services/storage-service.js';
import type { ClusterService } from '../swarm/cluster/cluster-service.js';
import type { NodeService } from '../swarm/cluster/node-service.js';
import type { TrafficService } from '../services/traffic-service.js';

/**
 * What a plugin may call: one application service per area, built in the composition root.
 * Plugins never see the database or the runtime; each service takes the app lock itself.
 */
export interface PluginApi {
  version: string;
  apps: AppService;
  config: ConfigService;
  releases: ReleaseService;
  /** deploys without a push: git:load-image, git:from-image, ps:rebuild */
  deploys: DeployService;
  formation: FormationService;
  processes: ProcessService;
  /** where apps run: local containers or Swarm services (scheduler:*, ps:set placement) */
  scheduler: SchedulerService;
  domains: DomainService;
  ports: PortService;
  /** HTTPS: custom certificates, redirect/HSTS */
  certs: CertService;
  /** HTTPS: Let's Encrypt over ACME http-01 */
  letsencrypt: LetsEncryptService;
  settings: SettingsService;
  builder: BuilderService;
  storage: StorageService;
  logs: LogsService;
  keys: KeyService;
  traffic: TrafficService;
  /** databases as add-ons (postgres:, redis:): lifecycle and links */
  addons: AddonService;
  /** their data: export, import, backups, restore */
  addonData: AddonDataService;
  addonSchedule: AddonScheduler;
  addonTargets: AddonTargetService;
  addonUpgrade: AddonUpgradeService;
  /** webhooks told about deploys, crashes, renewals, backups (notifications:*) */
  notifications: NotificationService;
  /** app.json cron: tasks of the live release, runs, suspend/resume */
  cron: CronService;
  /** Swarm: cluster:init and paas's SSH key for nodes */
  cluster: ClusterService;
  /** Swarm nodes: add, list, drain, activate, label, remove */
  nodes: NodeService;
  /** ps:top, logs --proxy, metrics:set / metrics:report */
  metrics: MetricsService;
  /** the web dashboard: login links, sessions, its settings (dashboard:*) */
  dashboard: DashboardService;
}
