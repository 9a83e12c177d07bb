import { AppMapTable } from './app-map-table.js';
import type { Db } from './database.js';

/** Config vars per app. Values never leave this table except into containers and `config:get/show`. */
export class ConfigRepository extends AppMapTable<string> {
  constructor(db: Db) {
    super(db, 'config_vars', 'key', 'value');
  }
}
