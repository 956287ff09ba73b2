import type { Type } from '@nestjs/common';
import { isAbsolute, resolve } from 'node:path';

/**
 * `GATEHOUSE_MODULES`: Nest modules a deployment adds without editing the gateway (an enterprise log destination,
 * say), as `file#ExportName` entries separated by commas; a relative file is read from the working directory and
 * `#ExportName` defaults to the file's only exported class. They are imported into the application like
 * `AppModule.forRoot(settings, extraImports)`.
 */
export async function loadExtraModules(spec: string | undefined, cwd = process.cwd()): Promise<Type[]> {
  const modules: Type[] = [];
  for (const item of (spec ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const hash = item.lastIndexOf('#');
    const file = hash > 0 ? item.slice(0, hash) : item;
    const wanted = hash > 0 ? item.slice(hash + 1) : undefined;
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    let exports: Record<string, unknown>;
    try {
      exports = (await import(path)) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`GATEHOUSE_MODULES: cannot load ${path}: ${(error as Error).message}`);
    }
    const candidates = wanted === undefined ? Object.entries(exports).filter(([, value]) => typeof value === 'function') : [[wanted, exports[wanted]] as const];
    if (candidates.length !== 1 || typeof candidates[0][1] !== 'function') {
      throw new Error(
        wanted === undefined
          ? `GATEHOUSE_MODULES: ${path} exports ${candidates.length} classes; name the module as ${file}#ExportName`
          : `GATEHOUSE_MODULES: ${path} does not export ${wanted}`,
      );
    }
    modules.push(candidates[0][1] as Type);
  }
  return modules;
}
