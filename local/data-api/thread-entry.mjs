// Worker threads on Node.js 20 do not inherit tsx's loader from the thread that started them:
// register it here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./thread-worker.ts');
