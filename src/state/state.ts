import { AcmeRepository } from './acme-repository.js';
import { AddonsRepository } from './addons-repository.js';
import { AppSettingsRepository } from './app-settings-repository.js';
import { AppsRepository } from './apps-repository.js';
import { CertificatesRepository } from './certificates-repository.js';
import { ConfigRepository } from './config-repository.js';
import { CronRepository } from './cron-repository.js';
import { type Db, openDatabase } from './database.js';
import { DeploysRepository } from './deploys-repository.js';
import { DomainsRepository } from './domains-repository.js';
import { EventsRepository } from './events-repository.js';
import { FormationRepository } from './formation-repository.js';
import { ReleasesRepository } from './releases-repository.js';
import { SettingsRepository } from './settings-repository.js';
import { SshKeysRepository } from './ssh-keys-repository.js';

/** All repositories over one database handle. */
export class State {
  readonly apps: AppsRepository;
  readonly keys: SshKeysRepository;
  readonly releases: ReleasesRepository;
  readonly config: ConfigRepository;
  readonly formation: FormationRepository;
  readonly domains: DomainsRepository;
  readonly deploys: DeploysRepository;
  readonly events: EventsRepository;
  readonly settings: SettingsRepository;
  readonly appSettings: AppSettingsRepository;
  readonly certificates: CertificatesRepository;
  readonly acme: AcmeRepository;
  readonly addons: AddonsRepository;
  readonly cron: CronRepository;

  constructor(readonly db: Db) {
    this.apps = new AppsRepository(db);
    this.keys = new SshKeysRepository(db);
    this.releases = new ReleasesRepository(db);
    this.config = new ConfigRepository(db);
    this.formation = new FormationRepository(db);
    this.domains = new DomainsRepository(db);
    this.deploys = new DeploysRepository(db);
    this.events = new EventsRepository(db);
    this.settings = new SettingsRepository(db);
    this.appSettings = new AppSettingsRepository(db);
    this.certificates = new CertificatesRepository(db);
    this.acme = new AcmeRepository(db);
    this.addons = new AddonsRepository(db);
    this.cron = new CronRepository(db);
  }

  static open(file: string): State {
    return new State(openDatabase(file));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
