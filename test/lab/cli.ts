// npm run lab -- up [--vms N] | down | status | rootfs   (options: --dir D, --prefix P, --subnet A.B.C)
import { parseArgs } from 'node:util';
import { labFiles } from './config';
import { LAB_IMAGES, type Lab, labDown, labStatus, labUp, type LabVm } from './lab';
import { ensureRootfs, ROOTFS_CACHE_DIR } from './nspawn';
import { shQuote } from './sh';

const USAGE = `usage: npm run lab -- <up|down|status|rootfs> [options]
  up      make (or check) the lab's VMs; running it again changes nothing
  down    remove every namespace, link, process and file the lab made
  status  show what exists and runs
  rootfs  build (once) the Debian root file system nspawn machines boot, in ${ROOTFS_CACHE_DIR}
options:
  --vms N          number of VMs for "up" (default 3)
  --dir D          lab state directory (default $SWARMDESK_LAB_DIR or /var/tmp/swarmdesk-lab)
  --prefix P       name prefix of bridge, namespaces, links (default swdlab)
  --subnet A.B.C   the lab's /24 (default 10.77.0): host .1, VM i at .(10+i)`;

function describeVm(vm: LabVm): string {
  return [
    `${vm.name}  ${vm.ip}`,
    `  ssh:    ${vm.sshArgv().map(shQuote).join(' ')}`,
    `  docker: docker -H ${vm.engineAddr} ps`,
    `  shell:  ${vm.enterScript}   (or: ${vm.enterScript} <command>)`,
  ].join('\n');
}

function printLab(lab: Lab): void {
  const { config } = lab;
  if (lab.actions.length === 0) console.log('lab is already up; nothing changed');
  else for (const action of lab.actions) console.log(`- ${action}`);
  console.log(`\nlab ${config.dir}: bridge ${config.bridge} ${config.hostIp}/24, ${lab.vms.length} VMs`);
  for (const vm of lab.vms) console.log(`\n${describeVm(vm)}`);
  console.log(`\nimages in every VM's engine: ${LAB_IMAGES.join(', ')}`);
  console.log(`known_hosts: ${labFiles(config).knownHosts}`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      vms: { type: 'string' },
      dir: { type: 'string' },
      prefix: { type: 'string' },
      subnet: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || extra.length > 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const opts = { dir: values.dir, prefix: values.prefix, subnet: values.subnet };
  switch (command) {
    case 'up': {
      const vms = values.vms === undefined ? undefined : Number(values.vms);
      printLab(await labUp({ ...opts, vms }));
      return 0;
    }
    case 'down': {
      const { actions } = await labDown(opts);
      if (actions.length === 0) console.log('nothing to remove');
      for (const action of actions) console.log(`- ${action}`);
      return 0;
    }
    case 'status': {
      const status = await labStatus(opts);
      if (status.vms.length === 0 && !status.bridge) {
        console.log(`no lab in ${status.config.dir}`);
        return 0;
      }
      console.log(`lab ${status.config.dir}: bridge ${status.config.bridge} ${status.bridge ? 'up' : 'MISSING'}`);
      for (const vm of status.vms) {
        const state = [
          vm.netns ? 'namespace' : 'NO NAMESPACE',
          vm.sshdPid ? `sshd ${vm.sshdPid}` : 'sshd DOWN',
          vm.dockerdPid ? `dockerd ${vm.dockerdPid}${vm.dockerAnswers ? '' : ' (NOT ANSWERING)'}` : 'dockerd DOWN',
          `images: ${vm.images.join(' ') || 'none'}`,
        ];
        console.log(`\n${describeVm(vm.vm)}\n  state:  ${state.join(', ')}`);
      }
      return 0;
    }
    case 'rootfs':
      console.log(await ensureRootfs());
      return 0;
    default:
      console.error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
