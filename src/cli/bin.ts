import { releaseWorker } from '../cluster/worker.ts';
import { main } from './main.ts';

// The process entry: the exit code comes back from main() so tests can call it in-process.
process.exitCode = await main(process.argv);
// A cluster worker's IPC channel would keep it alive once its gateway has stopped.
releaseWorker();
