import { Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { LogDestinationDefinition } from '../log-destination';

/**
 * Marks a provider as a log destination definition. Set by `@LogDestinationModule` on each class it registers; the
 * DestinationRegistry finds them with Nest's DiscoveryService, in whichever module of the application they are.
 */
export const LogDestinationProvider = DiscoveryService.createDecorator<Record<string, never>>();

const THREAD_IMPORT = Symbol('gatehouse:log-destination-module');

/** Where the delivery thread imports a destination module from (see `@LogDestinationModule`). */
export interface ThreadImport {
  /** The module's file, as `__filename` gave it (a `.ts` file under ts-jest: the thread loads its build). */
  readonly path: string;
  /** The name the module class is exported under from that file. */
  readonly exportName: string;
}

export interface LogDestinationModuleOptions extends ModuleMetadata {
  /** The definitions this module registers: providers implementing `LogDestinationDefinition`. */
  destinations: Type<LogDestinationDefinition>[];
  /**
   * This module's own file: pass `__filename`. Delivery runs on a worker thread, which hosts the same destination
   * modules in a Nest application context of its own; classes cannot be handed to a thread, so it imports this file.
   */
  path: string;
  /** The name the module class is exported under from `path`; default: the class's name. */
  exportName?: string;
}

/**
 * The one way to add a log destination, used by the built-in ones too: `@Module` for a module that registers
 * destination definitions, plus where the delivery thread imports the module from. Import the module into the
 * application (`AppModule.forRoot(settings, [YourModule])`, or the `GATEHOUSE_MODULES` environment variable); its
 * definitions are discovered on the request thread and on the delivery thread alike.
 *
 * The module must be static (no `forRoot(options)`: the delivery thread could not repeat the options); read settings
 * from GatewaySettings (global in both threads) or the environment.
 */
export function LogDestinationModule(options: LogDestinationModuleOptions): ClassDecorator {
  const { destinations, path, exportName, ...metadata } = options;
  for (const destination of destinations) LogDestinationProvider({})(destination);
  return (target) => {
    Module({ ...metadata, providers: [...(metadata.providers ?? []), ...destinations] })(target);
    const threadImport: ThreadImport = { path, exportName: exportName ?? target.name };
    Reflect.defineMetadata(THREAD_IMPORT, threadImport, target);
  };
}

/** The thread import of a module class decorated with `@LogDestinationModule`, or undefined. */
export function threadImportOf(moduleClass: unknown): ThreadImport | undefined {
  if (typeof moduleClass !== 'function') return undefined;
  return Reflect.getOwnMetadata(THREAD_IMPORT, moduleClass) as ThreadImport | undefined;
}
