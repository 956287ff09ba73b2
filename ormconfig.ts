import { DataSource } from 'typeorm';
import { SecretBox } from './src/common/secret-box';
import { loadEnvironment } from './src/config/environment';
import { dataSourceOptions } from './src/database/data-source-options';

/**
 * Data source for the TypeORM migration CLI (`npm run migration:run`). It needs a server URL: for the
 * embedded default, start the gateway once (it migrates on boot) or point DATABASE_URL at PostgreSQL.
 * Migrations that re-encrypt stored secrets read the same key variables as the gateway: SALT_KEY (or
 * LITELLM_SALT_KEY), SALT_KEY_PREVIOUS and MASTER_KEY (or LITELLM_MASTER_KEY); a master key set only in
 * config.yaml must be exported as MASTER_KEY here.
 */
const environment = loadEnvironment(process.env);
const url = environment.DATABASE_URL;
if (!url) {
  throw new Error('Set DATABASE_URL to run the TypeORM CLI (the embedded database migrates itself on start).');
}
const secrets =
  environment.SALT_KEY || environment.MASTER_KEY
    ? SecretBox.fromKeyMaterial({ saltKey: environment.SALT_KEY, masterKey: environment.MASTER_KEY }, environment.SALT_KEY_PREVIOUS)
    : null;
export default new DataSource(dataSourceOptions({ url, poolSize: 1, secrets }));
