import { AppMapTable } from './app-map-table.js';
import type { Db } from './database.js';

/** Desired replica count per process type. */
export class FormationRepository extends AppMapTable<number> {
  constructor(db: Db) {
    super(db, 'formation', 'process', 'quantity');
  }
}
