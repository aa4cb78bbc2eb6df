/**
 * Turns a machine reachable over SSH into a cluster node, and back: connect (host key), preflight,
 * upload the agent bundle and its Node.js runtime, verify their checksums on the machine, install
 * under /opt/swarmd/<version>, configure, start (systemd or a supervised process), join with the
 * role's token and wait until the cluster sees the node READY. Running it again upgrades in place and
 * keeps the node's identity (its state directory). `remove` drains the node, stops and uninstalls the
 * agent and removes the node from the cluster.
 *
 * Every step is an event (steps.ts); a failure ends with an outcome carrying a code and a message, and
 * leaves the machine as it was (a fresh install is removed; an upgrade goes back to the version before).
 */
import { join } from 'node:path';
import type { ControlApi } from '../../../agent/api/control';
import type { Node, NodeRole } from '../../../agent/api/objects';
import { TaskState } from '../../../agent/api/objects';
import type { AgentBundle } from './bundle';
import { errorMessage, isProvisionError, ProvisionError } from './errors';
import type { KnownHosts } from './known-hosts';
import {
  AGENT_PID,
  CONF_FILE,
  configFile,
  CURRENT,
  ETC_DIR,
  LOG_FILE,
  NODE_CERT_FILE,
  NODE_STATE_FILE,
  OPT_DIR,
  startCommand,
  STATE_DIR,
  stopCommand,
  superviseScript,
  SWARM_PORT,
  TOKEN_FILE,
  uninstallCommand,
  UNIT_FILE,
  unitFile,
} from './layout';
import { type MachineFacts, parseKeyValues, preflight } from './preflight';
import { shellQuote } from './shell';
import { connectSsh, describeTarget, type SshConnection, type SshTarget } from './ssh';
import { Progress, type ProvisionListener, type ProvisionOutcome } from './steps';

/** What provisioning needs from the cluster: a manager's control API. */
export type ClusterControl = Pick<ControlApi, 'getNode' | 'updateNode' | 'removeNode' | 'listClusters' | 'listTasks'>;

export interface MachineRequest {
  /** Names this machine in events (default user@host[:port]). */
  id?: string;
  target: SshTarget;
  role: NodeRole;
  /** Node labels to set once it has joined. */
  labels?: Record<string, string>;
  /** A host key fingerprint the user accepted after a `host-key-unknown` outcome. */
  trustFingerprint?: string;
  /** Consent to install Docker (Debian/Ubuntu's docker.io) when it is missing. */
  installDocker?: boolean;
  /**
   * The manager the machine joins through, as the machine reaches it: default host is the address
   * this machine used to reach the VM, default port 4242.
   */
  manager?: { host?: string; port?: number };
  /** host:port the node advertises (managers); default the address SSH reached, port 4242. */
  advertiseAddress?: string;
}

export interface ProvisionerOptions {
  knownHosts: KnownHosts;
  bundle: AgentBundle;
  cluster: ClusterControl;
  /** How long to wait for READY after the agent starts; default 2 minutes. */
  readyTimeoutMs?: number;
  /** SSH connect timeout; default 20 s. */
  connectTimeoutMs?: number;
}

interface RunOptions {
  listener: ProvisionListener;
  signal?: AbortSignal;
}

interface InstalledState {
  /** Version directory `current` points to, if any. */
  currentVersion?: string;
  /** The node's identity, if the state directory has one. */
  nodeId?: string;
  /** Whether the node has certificates (joined): then no token is needed. */
  joined: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ProvisionError('cancelled', 'cancelled'));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProvisionError('cancelled', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function machineId(req: MachineRequest): string {
  return req.id ?? describeTarget(req.target);
}

export class Provisioner {
  constructor(private readonly options: ProvisionerOptions) {}

  private async connect(req: MachineRequest, progress: Progress, signal?: AbortSignal): Promise<SshConnection> {
    return progress.step('connect', `Connect to ${describeTarget(req.target)} over SSH`, async () => {
      const conn = await connectSsh(req.target, {
        knownHosts: this.options.knownHosts,
        trustFingerprint: req.trustFingerprint,
        timeoutMs: this.options.connectTimeoutMs,
        signal,
      });
      return { value: conn, message: `connected as ${req.target.username}, host key trusted` };
    });
  }

  /** "Test connection": SSH (host key, login) and the first checks, nothing installed. */
  async test(req: MachineRequest, run: RunOptions): Promise<ProvisionOutcome> {
    const progress = new Progress(machineId(req), run.listener);
    let conn: SshConnection | undefined;
    try {
      conn = await this.connect(req, progress, run.signal);
      const facts = await preflight(conn, progress, { signal: run.signal, installDocker: false, manager: { host: req.manager?.host, port: req.manager?.port ?? SWARM_PORT } });
      return progress.finish({ ok: true, message: `${facts.osName} (${facts.arch}) is ready to be provisioned` });
    } catch (err) {
      return progress.finish(progress.failure(err));
    } finally {
      conn?.close();
    }
  }

  /** Installs (or upgrades) the agent and joins the node; resolves with the outcome, never rejects. */
  async provision(req: MachineRequest, run: RunOptions): Promise<ProvisionOutcome> {
    const progress = new Progress(machineId(req), run.listener);
    let conn: SshConnection | undefined;
    try {
      conn = await this.connect(req, progress, run.signal);
      const facts = await preflight(conn, progress, {
        signal: run.signal,
        installDocker: req.installDocker,
        manager: { host: req.manager?.host, port: req.manager?.port ?? SWARM_PORT },
      });
      return progress.finish(await this.install(conn, req, facts, progress, run.signal));
    } catch (err) {
      return progress.finish(progress.failure(err));
    } finally {
      conn?.close();
    }
  }

  /** Provisions several machines at once, each with its own progress. */
  provisionAll(reqs: readonly MachineRequest[], run: RunOptions): Promise<ProvisionOutcome[]> {
    return Promise.all(reqs.map((req) => this.provision(req, run)));
  }

  private async installed(conn: SshConnection, signal?: AbortSignal): Promise<InstalledState> {
    const out = await conn.run(
      'reading what is installed',
      `echo "current=$(readlink ${CURRENT} 2>/dev/null)"; echo "cert=$([ -f ${NODE_CERT_FILE} ] && echo yes)"; echo "state=$(cat ${NODE_STATE_FILE} 2>/dev/null | tr -d '\\n')"`,
      { sudo: true, signal, timeoutMs: 60_000 },
    );
    const get = (key: string) => out.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
    let nodeId: string | undefined;
    try {
      nodeId = (JSON.parse(get('state')) as { nodeId?: string }).nodeId;
    } catch {
      nodeId = undefined;
    }
    const current = get('current');
    return { currentVersion: current === '' ? undefined : current.split('/').pop(), nodeId, joined: get('cert') === 'yes' };
  }

  private async install(conn: SshConnection, req: MachineRequest, facts: MachineFacts, progress: Progress, signal?: AbortSignal): Promise<ProvisionOutcome> {
    const { manifest, dir } = this.options.bundle;
    const runtime = manifest.runtimes[facts.arch];
    if (runtime === undefined) throw new ProvisionError('install-failed', `the agent bundle has no Node.js runtime for ${facts.arch}: build it with npm run build:agent -- --arch ${facts.arch}`);
    const before = await this.installed(conn, signal);
    const upgrading = before.currentVersion !== undefined;
    const versionDir = `${OPT_DIR}/${manifest.version}`;
    let staging: string | undefined;
    let started = false;
    let nodeId: string | undefined = before.nodeId;
    try {
      staging = await progress.step('upload', `Upload the agent ${manifest.version} and Node.js ${manifest.nodeVersion} (${facts.arch})`, async (ctx) => {
        const tmp = (await conn.run('creating an upload directory', 'mktemp -d /tmp/swarmd-upload.XXXXXX', { signal })).trim();
        for (const file of [manifest.bundle.file, runtime.file]) {
          ctx.line(`${file} -> ${tmp}/${file}`);
          await conn.upload(join(dir, file), `${tmp}/${file}`, { signal });
        }
        return { value: tmp, message: `uploaded to ${tmp}` };
      });
      await progress.step('verify', 'Verify checksums on the machine (SHA-256)', async (ctx) => {
        const out = await conn.run('sha256sum', `cd ${shellQuote(staging ?? '')} && sha256sum ${shellQuote(manifest.bundle.file)} ${shellQuote(runtime.file)}`, { signal, onLine: ctx.onLine });
        const sums = new Map(out.trim().split('\n').map((l) => { const [sum, name] = l.trim().split(/\s+\*?/); return [name, sum] as const; }));
        for (const [file, expected] of [[manifest.bundle.file, manifest.bundle.sha256], [runtime.file, runtime.sha256]] as const) {
          if (sums.get(file) !== expected) throw new ProvisionError('install-failed', `${file} arrived damaged (SHA-256 ${sums.get(file) ?? 'missing'}, expected ${expected}): retry the installation`);
        }
        return { value: undefined, message: 'both files match the bundle\'s checksums' };
      });
      await progress.step('install', `Install under ${versionDir}`, async (ctx) => {
        const partial = `${versionDir}.partial`;
        await conn.run(
          'installing the agent',
          [
            `rm -rf ${partial} && mkdir -p ${partial}/node`,
            `tar -xzf ${shellQuote(`${staging}/${runtime.file}`)} -C ${partial}/node --strip-components=1 package/bin/node package/LICENSE`,
            `cp ${shellQuote(`${staging}/${manifest.bundle.file}`)} ${partial}/swarmd.mjs`,
            `cat > ${partial}/supervise.sh && chmod 755 ${partial}/supervise.sh`,
            `chmod -R go-w ${partial}`,
            `${partial}/node/bin/node --version`,
            // A directory of this version (an interrupted earlier attempt, or the same bundle again) is replaced.
            `if [ "$(readlink ${CURRENT})" != ${shellQuote(versionDir)} ]; then rm -rf ${versionDir}; mv ${partial} ${versionDir}; else rm -rf ${versionDir}.old && mv ${versionDir} ${versionDir}.old && mv ${partial} ${versionDir} && rm -rf ${versionDir}.old; fi`,
          ].join(' && '),
          { sudo: true, signal, stdin: superviseScript(), onLine: ctx.onLine, timeoutMs: 10 * 60_000 },
        );
        return { value: undefined, message: `Node.js ${manifest.nodeVersion} and the agent installed` };
      });
      const joinAddr = facts.managerAddress ?? `${conn.localAddress() ?? ''}:${SWARM_PORT}`;
      await progress.step('configure', `Configure the agent (${ETC_DIR})`, async () => {
        const advertise = req.advertiseAddress ?? `${(conn.remoteAddress() ?? req.target.host).replace(/^::ffff:/, '')}:${SWARM_PORT}`;
        const conf = configFile({ listenRemoteApi: `0.0.0.0:${SWARM_PORT}`, advertiseRemoteApi: advertise, engineAddr: `unix://${facts.docker?.socket ?? '/var/run/docker.sock'}`, joinAddr });
        await conn.run('writing the configuration', `mkdir -p ${ETC_DIR} && chmod 755 ${ETC_DIR} && cat > ${CONF_FILE} && chmod 644 ${CONF_FILE}`, { sudo: true, signal, stdin: conf });
        if (facts.systemd) await conn.run('writing the systemd unit', `cat > ${UNIT_FILE}`, { sudo: true, signal, stdin: unitFile() });
        if (before.joined) return { value: undefined, message: `joins through ${joinAddr}; the node keeps its identity${before.nodeId ? ` (${before.nodeId})` : ''}` };
        const token = await this.joinToken(req.role);
        // The token goes over stdin into a file only root can read, never on a command line.
        await conn.run('writing the join token', `umask 077 && cat > ${TOKEN_FILE}`, { sudo: true, signal, stdin: `${token}\n` });
        return { value: undefined, message: `joins through ${joinAddr} as a ${req.role}` };
      });
      const logOffset = Number((await conn.run('log size', `stat -c %s ${LOG_FILE} 2>/dev/null || echo 0`, { sudo: true, signal })).trim()) || 0;
      await progress.step('start', upgrading ? `Restart the agent on ${manifest.version}` : 'Start the agent', async (ctx) => {
        await conn.run('stopping the running agent', stopCommand(), { sudo: true, signal, timeoutMs: 90_000 });
        await conn.run('switching to the new version', `ln -sfn ${versionDir} ${CURRENT}.new && mv -T ${CURRENT}.new ${CURRENT}`, { sudo: true, signal });
        started = true;
        await conn.run('starting the agent', startCommand(facts.systemd), { sudo: true, signal, onLine: ctx.onLine });
        const exe = await this.waitForAgent(conn, logOffset, facts.systemd, signal);
        return { value: undefined, message: `running ${exe}${facts.systemd ? ' (systemd unit swarmd)' : ' (supervised, pid file /run/swarmd/swarmd.pid)'}` };
      });
      nodeId = await progress.step('join', before.joined ? 'Rejoin the cluster as the same node' : `Join the cluster as a ${req.role}`, async (ctx) => {
        const id = await this.waitForIdentity(conn, logOffset, ctx.line, signal);
        return { value: id, message: `node ${id}` };
      });
      const node = await progress.step('ready', 'Wait until the cluster sees the node READY', async () => {
        const ready = await this.waitForReady(nodeId ?? '', signal);
        if (req.labels !== undefined && Object.keys(req.labels).length > 0) {
          const updated = await this.options.cluster.updateNode({ nodeId: ready.id, version: ready.meta.version, spec: { ...ready.spec, labels: { ...ready.spec.labels, ...req.labels } } });
          return { value: updated.node, message: `READY, labels set` };
        }
        return { value: ready, message: `READY (${ready.description?.hostname ?? ready.id})` };
      });
      await progress.step('cleanup', 'Clean up', async () => {
        await conn.run(
          'cleaning up',
          `rm -f ${TOKEN_FILE}; rm -rf ${shellQuote(staging ?? '/nonexistent')}; for d in ${OPT_DIR}/*; do [ "$d" = ${CURRENT} ] || [ "$d" = ${versionDir} ] || rm -rf "$d"; done`,
          { sudo: true, signal },
        );
        return { value: undefined, message: 'join token and upload removed; older versions removed' };
      });
      return { ok: true, nodeId: node.id, role: node.role, version: manifest.version, message: `${upgrading ? 'upgraded' : 'joined'}: node ${node.id} is READY` };
    } catch (err) {
      await this.rollBack(conn, { upgrading, previousVersion: before.currentVersion, versionDir, staging, started, wasJoined: before.joined, nodeId }, progress, err);
      throw err;
    }
  }

  /** After a failure: an upgrade goes back to the previous version; a fresh install is removed entirely. */
  private async rollBack(
    conn: SshConnection,
    what: { upgrading: boolean; previousVersion?: string; versionDir: string; staging?: string; started: boolean; wasJoined: boolean; nodeId?: string },
    progress: Progress,
    cause: unknown,
  ): Promise<void> {
    if (isProvisionError(cause, 'connection-lost')) return;
    try {
      await progress.step('cleanup', what.upgrading ? `Roll back to ${what.previousVersion ?? 'the previous version'}` : 'Roll back: remove what was installed', async (ctx) => {
        const cleanup = [`rm -f ${TOKEN_FILE}`, what.staging ? `rm -rf ${shellQuote(what.staging)}` : 'true', `rm -rf ${what.versionDir}.partial`];
        if (what.upgrading && what.previousVersion !== undefined) {
          const previousDir = `${OPT_DIR}/${what.previousVersion}`;
          if (what.started) {
            await conn.run('stopping the new agent', stopCommand(), { sudo: true, timeoutMs: 90_000 });
            await conn.run('restoring the previous version', `ln -sfn ${previousDir} ${CURRENT}.new && mv -T ${CURRENT}.new ${CURRENT}`, { sudo: true });
            await conn.run('restarting the previous agent', startCommand(await this.hasSystemd(conn)), { sudo: true, onLine: ctx.onLine });
          }
          if (previousDir !== what.versionDir) cleanup.push(`rm -rf ${what.versionDir}`);
          await conn.run('cleaning up', cleanup.join('; '), { sudo: true });
          return { value: undefined, message: `back on ${what.previousVersion}` };
        }
        await conn.run('stopping the agent', stopCommand(), { sudo: true, timeoutMs: 90_000 });
        await conn.run('removing the agent', `${cleanup.join('; ')}; ${uninstallCommand()}`, { sudo: true });
        if (what.nodeId !== undefined && !what.wasJoined) {
          await this.options.cluster.removeNode({ nodeId: what.nodeId, force: true }).catch(() => undefined);
        }
        return { value: undefined, message: 'nothing of the attempt is left on the machine' };
      });
    } catch {
      // the failure that led here is what the user needs to see; the rollback step shows its own
    }
  }

  private async hasSystemd(conn: SshConnection): Promise<boolean> {
    return (await conn.exec('[ -d /run/systemd/system ]')).code === 0;
  }

  private async joinToken(role: NodeRole): Promise<string> {
    let clusters;
    try {
      ({ clusters } = await this.options.cluster.listClusters({}));
    } catch (err) {
      throw new ProvisionError('join-failed', `cannot read the join tokens from the manager: ${errorMessage(err)}`);
    }
    const token = clusters[0]?.rootCa.joinTokens[role];
    if (token === undefined || token === '') throw new ProvisionError('join-failed', `the cluster has no ${role} join token`);
    return token;
  }

  /** The new agent's output since `offset`, for failure messages. */
  private async logSince(conn: SshConnection, offset: number): Promise<string> {
    return (await conn.exec(`tail -c +${offset + 1} ${LOG_FILE} 2>/dev/null | tail -n 200`, { sudo: true, timeoutMs: 60_000 })).stdout;
  }

  /** Why swarmd did not start, from its log (its "could not start" line), if it says. */
  private startFailure(log: string): string | undefined {
    for (const line of log.split('\n').reverse()) {
      try {
        const entry = JSON.parse(line) as { msg?: string; error?: string; reason?: string; level?: string };
        if (entry.msg === 'swarmd could not start' || entry.msg === 'node stopped') return entry.error ?? entry.reason;
      } catch {
        // not a log entry
      }
    }
    return undefined;
  }

  /**
   * systemd's account of the swarmd unit (state, result, exit status, e.g. "failed (exit-code, status
   * 209)"): when the unit fails before swarmd writes a line, as when systemd cannot open its log, this
   * is the only trace of why.
   */
  private async unitState(conn: SshConnection): Promise<string | undefined> {
    const shown = await conn.exec('systemctl show -p ActiveState -p SubState -p Result -p ExecMainStatus swarmd', { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
    if (shown === undefined || shown.code !== 0) return undefined;
    const props = parseKeyValues(shown.stdout);
    const state = `${props.get('ActiveState') ?? '?'}/${props.get('SubState') ?? '?'}`;
    return `unit swarmd ${state} (result ${props.get('Result') ?? '?'}, exit status ${props.get('ExecMainStatus') ?? '?'})`;
  }

  /** Waits until the agent's process runs the runtime from /opt/swarmd; returns what it runs. */
  private async waitForAgent(conn: SshConnection, logOffset: number, systemd: boolean, signal?: AbortSignal): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const out = (
        await conn.exec(
          `p=$(cat ${AGENT_PID} 2>/dev/null || systemctl show -p MainPID --value swarmd 2>/dev/null); [ -n "$p" ] && [ "$p" != 0 ] && ` +
            `echo "exe=$(readlink /proc/$p/exe)" && echo "mapped=$(grep -m 1 -o '${OPT_DIR}/.*/node/bin/node$' /proc/$p/maps)"`,
          { sudo: true, signal, timeoutMs: 60_000 },
        )
      ).stdout;
      const seen = parseKeyValues(out);
      const exe = seen.get('exe') ?? '';
      const mapped = seen.get('mapped') ?? '';
      if (exe.startsWith(`${OPT_DIR}/`)) return exe;
      // A runtime of another architecture run through binfmt_misc (qemu-user on an emulated arm64
      // machine): the process's executable is the emulator, and the uploaded runtime is mapped in it.
      if (mapped.startsWith(`${OPT_DIR}/`)) return `${mapped} (through ${exe})`;
      const failure = this.startFailure(await this.logSince(conn, logOffset));
      if (failure !== undefined) throw new ProvisionError('install-failed', `the agent stopped: ${failure}`);
      if (Date.now() > deadline) {
        const unit = systemd ? await this.unitState(conn) : undefined;
        throw new ProvisionError('install-failed', `the agent did not start within 60 s${exe ? ` (it runs ${exe})` : ''}${unit ? `; systemd says: ${unit}` : ''}`);
      }
      await sleep(500, signal);
    }
  }

  /** Waits until swarmd has joined (the state directory names the node); a refused join fails with swarmd's reason. */
  private async waitForIdentity(conn: SshConnection, logOffset: number, line: (l: string) => void, signal?: AbortSignal): Promise<string> {
    const deadline = Date.now() + 120_000;
    let shown = 0;
    for (;;) {
      const log = await this.logSince(conn, logOffset);
      const lines = log.split('\n').filter((l) => l !== '');
      for (const l of lines.slice(shown)) line(l);
      shown = lines.length;
      const failure = this.startFailure(log);
      if (failure !== undefined) throw new ProvisionError('join-failed', `the cluster refused the join: ${failure}`);
      if (/"msg":"node running"/.test(log)) {
        const state = (await conn.exec(`cat ${NODE_STATE_FILE}`, { sudo: true, signal })).stdout;
        const nodeId = (JSON.parse(state) as { nodeId?: string }).nodeId;
        if (nodeId !== undefined) return nodeId;
      }
      if (Date.now() > deadline) throw new ProvisionError('join-failed', 'the agent did not join within 2 minutes (see its log, /var/lib/swarmd/swarmd.log)');
      await sleep(500, signal);
    }
  }

  private async waitForReady(nodeId: string, signal?: AbortSignal): Promise<Node> {
    const timeoutMs = this.options.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'not yet known to the manager';
    for (;;) {
      try {
        const { node } = await this.options.cluster.getNode({ nodeId });
        if (node.status.state === 'ready') return node;
        last = `${node.status.state.toUpperCase()}${node.status.message ? ` (${node.status.message})` : ''}`;
      } catch (err) {
        last = errorMessage(err);
      }
      if (Date.now() > deadline) throw new ProvisionError('join-failed', `node ${nodeId} did not become READY within ${Math.round(timeoutMs / 1000)} s; last seen: ${last}`);
      await sleep(500, signal);
    }
  }

  /** Drains the node, stops and uninstalls the agent, and removes the node from the cluster. */
  async remove(req: MachineRequest, run: RunOptions): Promise<ProvisionOutcome> {
    const progress = new Progress(machineId(req), run.listener);
    const { signal } = run;
    let conn: SshConnection | undefined;
    try {
      const c = await this.connect(req, progress, signal);
      conn = c;
      await progress.step('privileges', 'Administrator rights (root or sudo)', async () => {
        if (c.isRoot) return { value: undefined, message: 'logged in as root' };
        await c.run('sudo', 'id -u', { sudo: true, signal });
        return { value: undefined, message: `${c.target.username} may use sudo` };
      });
      const state = await this.installed(c, signal);
      const nodeId = state.nodeId;
      if (nodeId === undefined) {
        progress.skip('drain', 'Drain the node', 'the machine has no node identity');
      } else {
        await progress.step('drain', `Drain node ${nodeId}`, async () => this.drain(nodeId, signal));
      }
      await progress.step('stop', 'Stop the agent', async () => {
        await c.run('stopping the agent', stopCommand(), { sudo: true, signal, timeoutMs: 90_000 });
        return { value: undefined, message: 'stopped' };
      });
      await progress.step('uninstall', 'Uninstall the agent and its files', async () => {
        await c.run(
          'removing swarm task containers',
          "if command -v docker >/dev/null 2>&1; then ids=$(docker ps -aq --filter label=com.docker.swarm.task.id); [ -z \"$ids\" ] || docker rm -f $ids >/dev/null; fi; true",
          { sudo: true, signal },
        );
        await c.run('uninstalling', uninstallCommand(), { sudo: true, signal });
        return { value: undefined, message: `${OPT_DIR}, ${ETC_DIR} and ${STATE_DIR} removed` };
      });
      if (nodeId === undefined) {
        progress.skip('remove-node', 'Remove the node from the cluster', 'no node to remove');
      } else {
        await progress.step('remove-node', `Remove node ${nodeId} from the cluster`, async () => {
          try {
            await this.options.cluster.removeNode({ nodeId, force: true });
          } catch (err) {
            if ((err as { code?: string }).code !== 'NotFound') throw new ProvisionError('join-failed', `the manager did not remove node ${nodeId}: ${errorMessage(err)}`);
          }
          return { value: undefined, message: 'removed' };
        });
      }
      return progress.finish({ ok: true, nodeId, message: `${describeTarget(req.target)} removed from the cluster; nothing of swarmdesk is left on it` });
    } catch (err) {
      return progress.finish(progress.failure(err));
    } finally {
      conn?.close();
    }
  }

  /** Demotes a manager first (a raft member cannot just go), then drains and waits for its tasks to stop. */
  private async drain(nodeId: string, signal?: AbortSignal): Promise<{ value: undefined; message: string }> {
    const { cluster } = this.options;
    let node: Node;
    try {
      ({ node } = await cluster.getNode({ nodeId }));
    } catch {
      return { value: undefined, message: 'the cluster does not know the node any more' };
    }
    if (node.spec.role === 'manager' || node.role === 'manager') {
      ({ node } = await cluster.updateNode({ nodeId, version: node.meta.version, spec: { ...node.spec, role: 'worker' } }));
      const deadline = Date.now() + 60_000;
      while (node.role !== 'worker') {
        if (Date.now() > deadline) throw new ProvisionError('join-failed', `node ${nodeId} is still a manager a minute after its demotion`);
        await sleep(500, signal);
        ({ node } = await cluster.getNode({ nodeId }));
      }
    }
    if (node.spec.availability !== 'drain') {
      await cluster.updateNode({ nodeId, version: node.meta.version, spec: { ...node.spec, availability: 'drain' } });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { tasks } = await cluster.listTasks({ nodeId });
      const running = tasks.filter((t) => t.status.state <= TaskState.RUNNING && t.desiredState <= TaskState.RUNNING).length;
      if (running === 0) return { value: undefined, message: 'drained: its tasks moved to other nodes' };
      if (Date.now() > deadline) return { value: undefined, message: `drained; ${running} tasks had not stopped after a minute` };
      await sleep(500, signal);
    }
  }
}
