/**
 * Where the agent lives on a provisioned machine, and the files provisioning writes there:
 *   /opt/swarmd/<version>/{swarmd.mjs, node/bin/node, supervise.sh}   one directory per agent version
 *   /opt/swarmd/current -> <version>                                    what runs
 *   /etc/swarmd/swarmd.conf                                             the agent's flags (no secret)
 *   /etc/swarmd/join-token                                              0600, only until the node has joined
 *   /var/lib/swarmd/                                                    node state (identity, certificates, raft)
 *   /var/lib/swarmd/swarmd.log                                          the agent's output
 *   /etc/systemd/system/swarmd.service                                  where systemd runs
 *   /run/swarmd/{supervisor,swarmd}.pid                                 where it does not
 */
import { shellQuote } from './shell';

export const OPT_DIR = '/opt/swarmd';
export const CURRENT = `${OPT_DIR}/current`;
export const ETC_DIR = '/etc/swarmd';
export const CONF_FILE = `${ETC_DIR}/swarmd.conf`;
export const TOKEN_FILE = `${ETC_DIR}/join-token`;
export const STATE_DIR = '/var/lib/swarmd';
export const LOG_FILE = `${STATE_DIR}/swarmd.log`;
export const NODE_STATE_FILE = `${STATE_DIR}/node-state.json`;
export const NODE_CERT_FILE = `${STATE_DIR}/certificates/swarm-node.crt`;
export const RUN_DIR = '/run/swarmd';
export const SUPERVISOR_PID = `${RUN_DIR}/supervisor.pid`;
export const AGENT_PID = `${RUN_DIR}/swarmd.pid`;
export const UNIT_FILE = '/etc/systemd/system/swarmd.service';
export const SWARM_PORT = 4242;

export interface AgentConfig {
  listenRemoteApi: string;
  advertiseRemoteApi?: string;
  engineAddr: string;
  joinAddr: string;
  hostname?: string;
}

/** /etc/swarmd/swarmd.conf: one variable, read by the supervisor (sh) and by systemd (EnvironmentFile). */
export function configFile(config: AgentConfig): string {
  const args = [
    '--state-dir', STATE_DIR,
    '--listen-remote-api', config.listenRemoteApi,
    ...(config.advertiseRemoteApi ? ['--advertise-remote-api', config.advertiseRemoteApi] : []),
    '--engine-addr', config.engineAddr,
    '--join-addr', config.joinAddr,
    '--join-token-file', TOKEN_FILE,
    ...(config.hostname ? ['--hostname', config.hostname] : []),
  ];
  for (const a of args) if (!/^[A-Za-z0-9_./:@\-[\]]+$/.test(a)) throw new Error(`unsafe value in the agent's flags: ${JSON.stringify(a)}`);
  return `# Written by swarmdesk provisioning.\nSWARMD_ARGS="${args.join(' ')}"\n`;
}

/**
 * Keeps swarmd running where there is no systemd: restarts it 2 s after it exits, stops it (SIGTERM,
 * then waits) on SIGTERM. Runs the agent of the directory it lives in, with that directory's Node.
 */
export function superviseScript(): string {
  return `#!/bin/sh
# Written by swarmdesk provisioning: runs swarmd under its own Node.js runtime and restarts it if it exits.
set -u
dir=$(cd "$(dirname "$0")" && pwd -P)
. ${CONF_FILE}
mkdir -p ${RUN_DIR}
echo $$ > ${SUPERVISOR_PID}
stopping=0
child=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  # shellcheck disable=SC2086
  "$dir/node/bin/node" "$dir/swarmd.mjs" $SWARMD_ARGS >>${LOG_FILE} 2>&1 </dev/null &
  child=$!
  echo "$child" > ${AGENT_PID}
  wait "$child"
  if [ "$stopping" = 1 ]; then
    wait "$child" 2>/dev/null
    rm -f ${AGENT_PID} ${SUPERVISOR_PID}
    exit 0
  fi
  echo "swarmd exited; restarting in 2 s" >>${LOG_FILE}
  sleep 2
done
`;
}

export function unitFile(): string {
  return `# Written by swarmdesk provisioning.
[Unit]
Description=swarmdesk node agent (swarmd)
After=network-online.target docker.service
Wants=network-online.target

[Service]
EnvironmentFile=${CONF_FILE}
ExecStart=${CURRENT}/node/bin/node ${CURRENT}/swarmd.mjs $SWARMD_ARGS
Restart=always
RestartSec=2
StandardOutput=append:${LOG_FILE}
StandardError=append:${LOG_FILE}

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Starts the agent (systemd unit or supervisor); its output goes to the log. The state directory must
 * exist first either way: systemd opens the unit's append: log before it runs anything, and fails the
 * start (status 209/STDOUT) when the log's directory is missing.
 */
export function startCommand(systemd: boolean): string {
  const stateDir = `mkdir -p ${STATE_DIR} && chmod 700 ${STATE_DIR}`;
  if (systemd) return `${stateDir} && systemctl daemon-reload && systemctl enable swarmd >/dev/null 2>&1; systemctl restart swarmd`;
  return `mkdir -p ${RUN_DIR} && ${stateDir} && setsid ${CURRENT}/supervise.sh </dev/null >/dev/null 2>&1 &`;
}

/** Stops the agent if it runs (either way); waits until it has exited. */
export function stopCommand(): string {
  return [
    'if [ -d /run/systemd/system ] && systemctl list-unit-files swarmd.service >/dev/null 2>&1; then systemctl stop swarmd 2>/dev/null; fi',
    `sup=$(cat ${SUPERVISOR_PID} 2>/dev/null); agent=$(cat ${AGENT_PID} 2>/dev/null)`,
    '[ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null',
    '[ -z "$sup" ] && [ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null',
    'i=0; while [ $i -lt 150 ]; do alive=0; for p in $sup $agent; do kill -0 "$p" 2>/dev/null && alive=1; done; [ $alive = 0 ] && break; sleep 0.2; i=$((i+1)); done',
    'for p in $sup $agent; do kill -KILL "$p" 2>/dev/null; done',
    `rm -f ${SUPERVISOR_PID} ${AGENT_PID}`,
    'true',
  ].join('\n');
}

/** Removes everything provisioning put on the machine, the node's state included. */
export function uninstallCommand(): string {
  return [
    `if [ -f ${UNIT_FILE} ]; then systemctl disable swarmd >/dev/null 2>&1; rm -f ${UNIT_FILE}; systemctl daemon-reload 2>/dev/null; fi`,
    `rm -rf ${shellQuote(OPT_DIR)} ${ETC_DIR} ${STATE_DIR} ${RUN_DIR}`,
  ].join('\n');
}
