import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source-options';

/**
 * Data source for the TypeORM migration CLI (`npm run migration:run`). It needs a server URL: for the
 * embedded default, start the gateway once (it migrates on boot) or point DATABASE_URL at PostgreSQL.
 */
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('Set DATABASE_URL to run the TypeORM CLI (the embedded database migrates itself on start).');
}
export default new DataSource({ ...dataSourceOptions({ url, poolSize: 1 }), migrationsRun: false });
