/**
 * swarmd: the node daemon's command line (flags as SwarmKit's swarmd). Starts one node and keeps it
 * running until SIGINT/SIGTERM, or until the cluster removes it.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isLogLevel, type LogLevel, createLogger, type Logger } from '../log';
import { NodeStartError, SwarmNode } from '../node/node';
import { watchEventLoopStalls } from '../node/stall-watch';
import { DEFAULT_STATE_DIR } from '../node/state-dir';
import { JoinError } from '../ca/join-client';
import { SWARMDESK_VERSION } from '../version';

interface SwarmdFlags {
  stateDir: string;
  listenControlApi?: string;
  listenRemoteApi: string;
  advertiseRemoteApi?: string;
  hostname?: string;
  joinAddr?: string;
  joinToken?: string;
  engineAddr?: string;
  heartbeatTick?: number;
  electionTick?: number;
  forceNewCluster: boolean;
  logLevel: LogLevel;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
}

function logLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError('must be one of debug, info, warn, error');
  return value;
}

export function swarmdCommand(): Command {
  return new Command('swarmd')
    .description('Run a swarmdesk cluster node (manager or worker)')
    .version(SWARMDESK_VERSION, '-v, --version')
    .option('-d, --state-dir <dir>', 'state directory', DEFAULT_STATE_DIR)
    .option('--listen-control-api <socket>', 'Unix socket for the control API (default: <state-dir>/swarmd.sock)')
    .option('--listen-remote-api <addr>', 'listen address for the remote API (managers)', '0.0.0.0:4242')
    .option('--advertise-remote-api <addr>', 'address other nodes dial to reach this manager (default: the listen address, or this machine\'s IP)')
    .option('--hostname <name>', 'override the reported hostname')
    .option('--join-addr <addr>', 'join an existing cluster through this manager (host:port)')
    .option('--join-token <token>', 'join token (worker or manager; the token picks the role)')
    .option('--engine-addr <addr>', 'Docker Engine endpoint (unix socket path or tcp://host:port)', '/var/run/docker.sock')
    .option('--heartbeat-tick <ticks>', 'raft heartbeat interval, in ticks', positiveInt)
    .option('--election-tick <ticks>', 'raft election timeout, in ticks', positiveInt)
    .option('--force-new-cluster', 'restart this manager as the only member of a new raft cluster, keeping all objects', false)
    .addOption(new Option('--log-level <level>', 'log level (debug, info, warn, error)').default('info').argParser(logLevel));
}

function describeStartFailure(err: unknown): string {
  if (err instanceof JoinError || err instanceof NodeStartError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

async function runNode(flags: SwarmdFlags, logger: Logger): Promise<number> {
  const stopStallWatch = watchEventLoopStalls({ logger });
  try {
    return await runUntilStopped(flags, logger);
  } finally {
    stopStallWatch();
  }
}

async function runUntilStopped(flags: SwarmdFlags, logger: Logger): Promise<number> {
  const node = await SwarmNode.start({
    stateDir: flags.stateDir,
    controlSocket: flags.listenControlApi,
    listenRemoteApi: flags.listenRemoteApi,
    advertiseRemoteApi: flags.advertiseRemoteApi,
    hostname: flags.hostname,
    joinAddr: flags.joinAddr,
    joinToken: flags.joinToken,
    engineAddr: flags.engineAddr,
    heartbeatTick: flags.heartbeatTick,
    electionTick: flags.electionTick,
    forceNewCluster: flags.forceNewCluster,
    logger,
  });
  logger.info('node running', { nodeId: node.nodeId, role: node.role, controlSocket: node.role === 'manager' ? node.controlSocket : undefined });
  const stop = (signal: string) => {
    logger.info('stopping', { signal });
    void node.stop(signal);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const reason = await node.whenStopped();
  if (reason === 'SIGINT' || reason === 'SIGTERM') return 0;
  logger.error('node stopped', { reason });
  return 1;
}

/** Runs swarmd; resolves with the exit code. */
export async function runSwarmd(argv: readonly string[]): Promise<number> {
  const command = swarmdCommand();
  command.exitOverride();
  try {
    command.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return typeof code === 'number' ? code : 2;
  }
  const flags = command.opts<SwarmdFlags>();
  const logger = createLogger({ level: flags.logLevel });
  try {
    return await runNode(flags, logger);
  } catch (err) {
    logger.error('swarmd could not start', { error: describeStartFailure(err) });
    process.stderr.write(`Error: ${describeStartFailure(err)}\n`);
    return 1;
  }
}
