/** Process entry point for swarmd (bin/swarmd.mjs loads this). */
import { runSwarmd } from './swarmd';

process.exitCode = await runSwarmd(process.argv.slice(2));
// gRPC keeps handles open after a clean stop; the node is done, so the process is too.
process.exit();
