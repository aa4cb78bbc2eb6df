#!/usr/bin/env node
// swarmdesk-provision: provisioning over SSH for scripting (electron/main/provision/cli.ts), through tsx.
import { register } from 'tsx/esm/api';

register();
const { runProvisionCli } = await import('../electron/main/provision/cli.ts');
const readStdin = async () => {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
};
process.exitCode = await runProvisionCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readStdin,
});
// gRPC and SSH keep handles open after the work is done.
process.exit();
