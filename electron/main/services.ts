/**
 * The main-process services, the same in the desktop app and in browser mode: the data folder, the
 * settings, the secret vault, the in-process node, and the sessions renderers talk through. Nothing in
 * here imports Electron; electron/main/index.ts and electron/web/server.ts adapt it to their transport.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger, type LogLevel } from '../../agent/log';
import { SWARMDESK_VERSION } from '../../agent/version';
import type { LocalNodeState, SwarmdeskEvent } from '../contract';
import { ApiSession, type EncodedEventSink, type SessionContext } from './api-session';
import { LocalNodeHost, type RaftTimingOverrides } from './local-node-host';
import { type LocalManager, Machines } from './machines';
import type { SecretVault } from './secrets';
import type { Settings } from './settings';

export interface MainServicesOptions {
  home: string;
  mode: 'electron' | 'web';
  settings: Settings;
  vault: SecretVault;
  /** Default: JSON lines appended to <home>/swarmd.log. */
  logger?: Logger;
  logLevel?: LogLevel;
  engineAddr?: string;
  hostname?: string;
  raft?: RaftTimingOverrides;
  appName?: string;
  appVersion?: string;
  feed?: SessionContext['feed'];
  provisioning?: {
    /** The agent bundle uploaded to VMs; default resources/agent of this checkout (npm run build:agent). */
    bundleDir?: string;
    /** Trusted SSH host keys; default <home>/known_hosts. */
    knownHostsPath?: string;
    /** How long an added machine has to become READY; default 2 minutes. */
    readyTimeoutMs?: number;
  };
}

/** resources/agent beside electron/ (from electron/main in tsx, from out/main when built: both two levels down). */
export const DEFAULT_AGENT_BUNDLE_DIR = fileURLToPath(new URL('../../resources/agent', import.meta.url));

export class MainServices {
  readonly host: LocalNodeHost;
  readonly machines: Machines;
  readonly logger: Logger;
  private readonly sessions = new Set<ApiSession>();
  private readonly logFile: WriteStream | undefined;
  private readonly context: SessionContext;

  constructor(private readonly options: MainServicesOptions) {
    mkdirSync(options.home, { recursive: true, mode: 0o700 });
    if (options.logger === undefined) {
      const stream = createWriteStream(join(options.home, 'swarmd.log'), { flags: 'a', mode: 0o600 });
      this.logFile = stream;
      this.logger = createLogger({ level: options.logLevel ?? 'info', format: 'json', write: (line) => stream.write(line) });
    } else this.logger = options.logger;
    this.host = new LocalNodeHost({
      home: options.home,
      settings: options.settings,
      logger: this.logger,
      engineAddr: options.engineAddr,
      hostname: options.hostname,
      raft: options.raft,
    });
    this.machines = new Machines({
      settings: options.settings,
      vault: options.vault,
      logger: this.logger,
      manager: () => this.localManager(),
      emit: (event) => {
        for (const session of this.sessions) session.emitEvent(event);
      },
      knownHostsPath: options.provisioning?.knownHostsPath ?? join(options.home, 'known_hosts'),
      bundleDir: options.provisioning?.bundleDir ?? DEFAULT_AGENT_BUNDLE_DIR,
      readyTimeoutMs: options.provisioning?.readyTimeoutMs,
    });
    this.context = {
      host: this.host,
      machines: this.machines,
      settings: options.settings,
      mode: options.mode,
      appName: options.appName ?? 'swarmdesk',
      appVersion: options.appVersion ?? SWARMDESK_VERSION,
      feed: options.feed,
    };
    this.host.onState((state) => this.broadcast(state));
  }

  get home(): string {
    return this.options.home;
  }
  get settings(): Settings {
    return this.options.settings;
  }
  get vault(): SecretVault {
    return this.options.vault;
  }

  /** Brings back this machine's node, if it has one; a failure is reported as its state, not thrown. */
  async start(): Promise<LocalNodeState> {
    try {
      return await this.host.resume();
    } catch (err) {
      this.logger.error('the local node did not start', { error: err instanceof Error ? err.message : String(err) });
      return this.host.snapshot();
    }
  }

  /** The in-process manager, while it runs: what provisioning joins machines to. */
  private localManager(): LocalManager | undefined {
    const port = this.options.settings.localNode()?.port;
    if (!this.host.managerRunning || port === undefined) return undefined;
    try {
      return { control: this.host.control(), port };
    } catch {
      return undefined;
    }
  }

  /** A renderer connected: its own handlers and feeds; `emit` delivers its events (`emitEncoded` those already JSON). */
  openSession(emit: (event: SwarmdeskEvent) => void, emitEncoded?: EncodedEventSink): ApiSession {
    const session = new ApiSession(this.context, emit, (closed) => this.sessions.delete(closed), emitEncoded);
    this.sessions.add(session);
    return session;
  }

  private broadcast(state: LocalNodeState): void {
    for (const session of this.sessions) {
      session.onLocalNodeChanged();
      session.emitEvent({ kind: 'local-node', state });
    }
  }

  /** Stops the node cleanly (renderers still see it stopping), then closes every session. */
  async close(): Promise<void> {
    await this.host.stop();
    for (const session of [...this.sessions]) session.close();
    await new Promise<void>((resolve) => (this.logFile === undefined ? resolve() : this.logFile.end(resolve)));
  }
}
