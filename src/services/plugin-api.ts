import type { AddonDataService } from './addon-data-service.js';
import type { AddonScheduler } from './addon-scheduler.js';
import type { AddonService } from './addon-service.js';
import type { AddonTargetService } from './addon-target-service.js';
import type { AddonUpgradeService } from './addon-upgrade-service.js';
import type { AppService } from './app-service.js';
import type { CertService } from './cert-service.js';
import type { BuilderService } from './builder-service.js';
import type { ConfigService } from './config-service.js';
import type { DeployService } from './deploy-service.js';
import type { DomainService } from './domain-service.js';
import type { FormationService } from './formation-service.js';
import type { KeyService } from './key-service.js';
import type { LetsEncryptService } from './letsencrypt-service.js';
import type { LogsService } from './logs-service.js';
import type { PortService } from './port-service.js';
import type { ProcessService } from './process-service.js';
import type { ReleaseService } from './release-service.js';
import type { SettingsService } from './settings-service.js';
import type { StorageService } from './storage-service.js';
import type { TrafficService } from './traffic-service.js';

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
}
