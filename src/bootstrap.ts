import { Logger, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger as PinoLogger } from 'pino';
import { answerClientErrorsAsJson } from './common/client-errors';
import { corsOptionsDelegate } from './common/cors';
import { jsonBodyParser } from './common/json-body';
import { rejectRepeatedQueryParameters } from './common/query-parameters';
import { requestContextMiddleware } from './common/request-context';
import { SecretRedactor } from './common/secret-redactor';
import { resolveEnvReference } from './config/env-reference';
import type { Environment } from './config/environment';
import type { GatewayConfig } from './config/gateway-config.types';
import { GatewaySettings } from './config/gateway-settings';
import { bodyParserErrorMiddleware } from './http-exception.filter';
import { MetricsService } from './metrics/metrics.service';
import { Tracing } from './tracing/tracing';

/** Example values from docs and tutorials: accepted so the seed runs as written, but announced loudly. */
const WELL_KNOWN_MASTER_KEYS = new Set(['sk-1234', 'sk-12345', 'sk-123456', 'sk-master', 'sk-admin', 'changeme', 'sk-changeme', 'master-key']);
const MIN_MASTER_KEY_LENGTH = 32;

export class StartupError extends Error {}

/** MASTER_KEY / LITELLM_MASTER_KEY win over `general_settings.master_key` (which may be `os.environ/NAME`). */
export function resolveMasterKey(
  environment: Environment,
  config: GatewayConfig,
  env: NodeJS.ProcessEnv,
): { masterKey: string; weakness: string | null } {
  const fromConfig = config.generalSettings.master_key;
  const masterKey = environment.MASTER_KEY ?? (fromConfig === undefined ? undefined : resolveEnvReference(fromConfig, env));
  if (masterKey === undefined || masterKey.trim() === '') {
    throw new StartupError(
      'No master key: set MASTER_KEY in the environment (or general_settings.master_key in config.yaml). ' +
        'Generate one with: node -e "console.log(\'sk-\' + require(\'crypto\').randomBytes(32).toString(\'base64url\'))"',
    );
  }
  const weakness = WELL_KNOWN_MASTER_KEYS.has(masterKey)
    ? 'the master key is a well-known example value'
    : masterKey.length < MIN_MASTER_KEY_LENGTH
      ? `the master key is shorter than ${MIN_MASTER_KEY_LENGTH} characters`
      : null;
  return { masterKey, weakness };
}

/** Every interface: what operators expect of a server once its master key is a real secret. */
const ALL_INTERFACES = '0.0.0.0';
const LOOPBACK = '127.0.0.1';

/**
 * HOST when the operator set it; otherwise every interface, unless the master key is weak. A weak key keeps
 * the seed's curls working on the machine itself (they call localhost / 0.0.0.0) without exposing a gateway
 * that anyone who has read LiteLLM's docs could administer.
 */
export function listenHost(explicitHost: string | undefined, weakness: string | null): { host: string; loopbackOnly: boolean } {
  if (explicitHost !== undefined) return { host: explicitHost, loopbackOnly: false };
  return weakness === null ? { host: ALL_INTERFACES, loopbackOnly: false } : { host: LOOPBACK, loopbackOnly: true };
}

/** Where the data lives: DATABASE_URL, else `general_settings.database_url`, else the embedded default. */
export function resolveDatabaseUrl(environment: Environment, config: GatewayConfig, env: NodeJS.ProcessEnv): string | null {
  if (environment.DATABASE_URL) return environment.DATABASE_URL;
  const fromConfig = config.generalSettings.database_url;
  if (fromConfig === undefined) return null;
  const resolved = resolveEnvReference(fromConfig, env);
  if (!resolved) throw new StartupError('general_settings.database_url refers to an unset environment variable');
  return resolved;
}

/**
 * Everything the HTTP layer needs besides the Nest module: body parsing with a size limit and
 * OpenAI-shaped parse errors, request ids and access lines, CORS, Swagger. Shared by `main.ts` and the tests so
 * both run the same app.
 */
export function configureApp(app: NestExpressApplication, options: { rootLogger: PinoLogger; maxBodyBytes: number }): void {
  const { environment } = app.get(GatewaySettings);
  const { MAX_REQUEST_JSON_DEPTH, MAX_REQUEST_JSON_MEMBERS } = environment;
  const limits = { maxDepth: MAX_REQUEST_JSON_DEPTH, maxMembers: MAX_REQUEST_JSON_MEMBERS };
  answerClientErrorsAsJson(app.getHttpServer());
  app.use(requestContextMiddleware(options.rootLogger, app.get(MetricsService)));
  // Before the request boundary and authentication: a preflight carries no key and no body, and a browser can read
  // a 400 or 401 only if it carries the CORS headers too.
  app.enableCors(corsOptionsDelegate({ origins: environment.CORS_ORIGINS, allowCredentials: environment.corsAllowCredentials }));
  // Only with tracing on: off, no middleware runs at all.
  const tracing = app.get(Tracing).requestMiddleware();
  if (tracing !== null) app.use(tracing);
  // The request boundary: malformed queries, bodies and encodings are refused here, on every route (public
  // ones included) and before authentication, so no route, pipe or log event ever sees them.
  app.use(rejectRepeatedQueryParameters);
  app.use(jsonBodyParser({ maxBodyBytes: options.maxBodyBytes, limits }));
  app.use(bodyParserErrorMiddleware(new Logger('BodyParser'), limits, app.get(SecretRedactor)));
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  setupSwagger(app);
}

export function setupSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Gatehouse')
      .setDescription(
        'OpenAI-compatible LLM gateway where every team and every virtual key decides where its request logs go. ' +
          'Click "Authorize" and paste the master key (or a virtual key) to try the routes.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The master key or a virtual key (sk-...)' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
    swaggerOptions: { persistAuthorization: true },
  });
}

/**
 * Stop in the right order: first the HTTP server (no new requests; in-flight ones, streams included,
 * finish), then the modules' shutdown hooks (buffered log events go to the outbox and get a delivery
 * grace period) while the database is still open, then the database.
 */
export async function closeGracefully(app: INestApplication): Promise<void> {
  const server = app.getHttpServer() as import('node:http').Server;
  if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.close();
}
