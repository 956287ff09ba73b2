/**
 * The contexts of Nest's start-up listing (each module initialised, each controller and route mapped, "Starting Nest
 * application", "successfully started"): some 60 lines nobody reads at every start, written at debug. The start-up
 * line that matters is main.ts's "listening on".
 */
export const NEST_BOOT_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'NestApplication', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer']);
