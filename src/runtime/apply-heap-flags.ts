import { reexecWithHeapFlags } from './heap-flags';

// Imported first by main.ts, before anything else loads: replaces the process once with V8's young generation
// capped (see heap-flags.ts).
reexecWithHeapFlags();
