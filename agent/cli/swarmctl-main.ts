/** swarmctl's process entry (bin/swarmctl.mjs loads it): real streams, exit code into process.exitCode. */
import { runSwarmctl } from './swarmctl';

process.exitCode = await runSwarmctl(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
