/**
 * The NodeDescription a node reports when its session opens (SwarmKit's executor Describe()).
 *
 * - hostname: the --hostname flag, else the OS's.
 * - platform: in Docker's naming (OSType "linux", Architecture "x86_64"/"aarch64"), so placement
 *   constraints and `node inspect` read as they do with Docker.
 * - resources: what the engine reports (NCPU, MemTotal) when it is reachable, since containers run
 *   there and Docker Desktop's VM can be smaller than the host; the host's otherwise.
 * - engine: version and labels from the Docker Engine. An unreachable engine leaves `engine` out (and
 *   says so in the log) instead of failing: the node still joins, and reports the engine at the next
 *   session once Docker is up.
 */
import * as os from 'node:os';
import type { EngineDescription, Labels, NodeDescription, Resources } from '../api/objects';
import { type ComponentLogger, silentLogger } from '../runtime';
import type { EngineClient } from './engine';

/** What describeNode reads from the host; injectable for tests. */
export interface HostFacts {
  hostname(): string;
  platform(): string;
  arch(): string;
  cpuCount(): number;
  totalMemoryBytes(): number;
}

export const nodeHost: HostFacts = {
  hostname: () => os.hostname(),
  platform: () => os.platform(),
  arch: () => os.arch(),
  cpuCount: () => (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length),
  totalMemoryBytes: () => os.totalmem(),
};

export interface DescribeNodeOptions {
  /** The --hostname flag; the OS's hostname when absent or empty. */
  hostname?: string;
  /** The Docker Engine (createEngineClient from engine.ts); without one, no engine is described. */
  engine?: EngineClient;
  /** Named in the log line when the engine cannot be reached. */
  engineAddr?: string;
  logger?: ComponentLogger;
  host?: HostFacts;
}

const ARCH_NAMES: Readonly<Record<string, string>> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armv7l',
  ia32: 'i386',
  ppc64: 'ppc64le',
  loong64: 'loongarch64',
};

/** Node's process.arch in Docker's (uname -m) naming. */
export function dockerArch(nodeArch: string): string {
  return ARCH_NAMES[nodeArch] ?? nodeArch;
}

/** Node's process.platform in Docker's OSType naming. */
export function dockerOs(nodePlatform: string): string {
  return nodePlatform === 'win32' ? 'windows' : nodePlatform;
}

interface EngineFacts {
  engine: EngineDescription;
  resources?: Resources;
}

/** Docker reports labels as "key=value" strings (a bare "key" is an empty value). */
export function parseEngineLabels(raw: unknown): Labels {
  const labels: Labels = {};
  if (!Array.isArray(raw)) return labels;
  for (const entry of raw) {
    if (typeof entry !== 'string' || entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq === 0) continue;
    if (eq < 0) labels[entry] = '';
    else labels[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return labels;
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The parts of GET /info that describe the node; throws when the answer is not an engine's. */
export function engineFactsFromInfo(info: unknown): EngineFacts {
  if (typeof info !== 'object' || info === null) throw new Error('the engine answered /info with something other than an object');
  const fields = info as Record<string, unknown>;
  const version = fields.ServerVersion;
  if (typeof version !== 'string' || version === '') throw new Error('the engine did not report its version');
  const facts: EngineFacts = { engine: { version, labels: parseEngineLabels(fields.Labels) } };
  const cpus = positiveInteger(fields.NCPU);
  const memory = positiveInteger(fields.MemTotal);
  if (cpus !== undefined && memory !== undefined) facts.resources = { nanoCpus: cpus * 1e9, memoryBytes: memory };
  return facts;
}

export async function describeNode(options: DescribeNodeOptions = {}): Promise<NodeDescription> {
  const host = options.host ?? nodeHost;
  const logger = options.logger ?? silentLogger;
  let engineFacts: EngineFacts | undefined;
  if (options.engine !== undefined) {
    try {
      engineFacts = engineFactsFromInfo(await options.engine.info());
    } catch (err) {
      logger.warn('Docker Engine unreachable; describing this node without an engine', {
        engineAddr: options.engineAddr ?? 'default',
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  const hostname = options.hostname !== undefined && options.hostname !== '' ? options.hostname : host.hostname();
  const description: NodeDescription = {
    hostname,
    platform: { os: dockerOs(host.platform()), arch: dockerArch(host.arch()) },
    resources: engineFacts?.resources ?? { nanoCpus: host.cpuCount() * 1e9, memoryBytes: host.totalMemoryBytes() },
  };
  if (engineFacts !== undefined) description.engine = engineFacts.engine;
  return description;
}
