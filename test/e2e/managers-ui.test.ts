/**
 * End-to-end (issue 5, the Nodes page): promotion and demotion through the UI with several managers, in
 * Debian's Chromium against browser mode, every part real. startWebServer runs the desktop app's
 * main-process services in this process (a temp SWARMDESK_HOME) with the local manager on loopback; two
 * swarmd processes (test/cluster/harness.ts, no Docker Engine: nothing here runs tasks) join it with the
 * worker token. Then, from each node's details panel: promote both workers (their rows say manager and
 * reachable, the Overview three managers and a healthy quorum), kill one and have the demotion of the
 * other refused with the control API's quorum reason (nothing changes), bring it back and demote it,
 * and finally demote the local node itself, the leader: the app asks first (Escape and Cancel change
 * nothing), then, confirmed, leadership passes to node-a and the app says it has no cluster to show any
 * more, its status chip a warning. What the UI says is checked against swarmctl (the managers' own
 * control sockets).
 *
 * Screenshots go to test-results/screenshots/ (kept by CI as artifacts). The steps run in order on one
 * cluster, each from where the previous one left it.
 *
 * Needs Chromium: skipped without it on a developer machine, failed in CI.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statePaths } from '../../agent/node/state-dir';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { freePort, joinTokens, type NodeRow, nodeRows, rowNamed, type SwarmdProcess, SwarmLab, untilNodes } from '../cluster/harness';
import { chromiumTestsSkipped, launchChromium, type LaunchedChromium } from '../support/chromium';
import { rendererBuild } from './renderer-build';
import { containsText, focused, hasAttribute, hasText, hidden, UI_TIMEOUT_MS, visible } from './ui-expect';

const skipped = chromiumTestsSkipped();
const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
/**
 * A promotion joins raft as a learner, catches up, then votes; on a loaded machine that has taken over
 * a minute (test/cluster/lifecycle.test.ts). Generous, since the waits poll and return early.
 */
const ROLE_CHANGE_MS = 180_000;
const LOCAL = 'desk';
/** Columns of the Nodes table, in order (see renderer/src/pages/NodesPage.tsx). */
const ROLE_COLUMN = 2;
const STATUS_COLUMN = 3;
const MANAGER_COLUMN = 5;

/** The element's content fits in it: nothing cut off by the cell's overflow (a table cell clips, not wraps). */
async function notClipped(locator: Locator): Promise<void> {
  await expect.poll(() => locator.evaluate((element) => element.scrollWidth <= element.clientWidth), { timeout: UI_TIMEOUT_MS }).toBe(true);
}

/** The element has CSS class `name` (MUI's colour classes: what colour a chip is drawn in). */
async function hasClass(locator: Locator, name: string): Promise<void> {
  await expect.poll(async () => (await locator.getAttribute('class'))?.split(/\s+/) ?? [], { timeout: UI_TIMEOUT_MS }).toContain(name);
}

describe.skipIf(skipped)('managers through the UI: browser mode in Chromium, the local manager and two swarmd nodes on loopback', () => {
  let lab: SwarmLab | undefined;
  let home = '';
  let web: WebServer | undefined;
  let chromium: LaunchedChromium | undefined;
  let page: Page;
  let nodeA: SwarmdProcess;
  let nodeB: SwarmdProcess;

  /** The local manager's control socket: what `swarmctl` on this machine talks to. */
  const localSocket = () => {
    if (web === undefined) throw new Error('no server');
    return statePaths(web.services.host.stateDir).defaultControlSocket;
  };
  const logTails = () => lab?.nodes.map((n) => `--- ${n.name}\n${n.lines.slice(-15).join('\n')}`).join('\n') ?? '';
  const tab = (name: string) => page.getByRole('tab', { name, exact: true });
  const notice = () => page.getByTestId('notice');
  const nodesTable = () => page.getByRole('table', { name: 'Nodes' });
  const row = (name: string) => nodesTable().getByRole('row', { name, exact: true });
  const cell = (name: string, column: number) => row(name).getByRole('cell').nth(column);
  /** One line of an Overview card: its label and value, read as one text ("Reachable3 of 3"). */
  const overviewLine = (card: string, labelText: string) => page.getByTestId(card).getByText(labelText, { exact: true }).locator('..');
  /** A screenshot in light and dark themes, as ui.test.ts takes them. */
  const shot = async (name: string) => {
    await page.mouse.move(0, 0);
    for (const theme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: theme });
      await hasAttribute(page.locator('html'), 'data-theme', theme);
      await page.screenshot({ path: join(SCREENSHOTS, `managers-${name}-${theme}.png`), animations: 'disabled' });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  };

  /** Opens a node's details panel from its hostname on the Nodes page. */
  const openDetails = async (name: string): Promise<Locator> => {
    await tab('Nodes').click();
    await row(name).getByRole('button', { name, exact: true }).click();
    const details = page.getByRole('region', { name: `Node ${name}` });
    await visible(details);
    return details;
  };
  const closeDetails = async (details: Locator) => {
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await hidden(details);
  };
  /** The row says what the cluster made of the node: its role (no change pending) and manager status. */
  const expectRow = async (name: string, role: 'manager' | 'worker', managerStatus: string, timeout = ROLE_CHANGE_MS) => {
    await hasText(cell(name, ROLE_COLUMN), role, { timeout, message: logTails() });
    await hasText(cell(name, MANAGER_COLUMN), managerStatus, { timeout, message: logTails() });
  };
  const untilLocal = (what: string, check: (rows: NodeRow[]) => boolean, timeoutMs = ROLE_CHANGE_MS) => untilNodes(localSocket(), what, check, timeoutMs);

  beforeAll(async () => {
    // In CI a missing Chromium lands here: launchChromium throws naming it, and every test fails.
    const rendererDir = await rendererBuild((line) => console.log(line));
    home = await mkdtemp(join(tmpdir(), 'swarmdesk-managers-e2e-'));
    web = await startWebServer({ home, port: 0, rendererDir, services: { hostname: LOCAL, logLevel: 'info' } });
    // Creating the cluster through the Setup page is ui.test.ts's part; here it only has to exist.
    const port = await freePort();
    await web.services.host.createCluster({ advertiseAddress: '127.0.0.1', port, runTasks: false });
    const { worker } = await joinTokens(localSocket());
    const swarm = await SwarmLab.create();
    lab = swarm;
    [nodeA, nodeB] = await Promise.all(['node-a', 'node-b'].map((name) => swarm.startNode(name, { joinAddr: `127.0.0.1:${port}`, joinToken: worker })));
    chromium = await launchChromium();
    const context = await chromium.browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 300_000);

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') lab?.printLogTails(40);
  });

  afterAll(async () => {
    await chromium?.close().catch(() => undefined);
    await lab?.cleanup();
    await web?.close().catch(() => undefined);
    if (home !== '') await rm(home, { recursive: true, force: true });
  }, 120_000);

  it('the local manager leads; the two swarmd nodes show READY as workers', async () => {
    if (web === undefined) throw new Error('no server');
    await page.goto(web.url);
    await tab('Nodes').click();
    for (const name of ['node-a', 'node-b']) {
      await hasText(cell(name, STATUS_COLUMN), 'ready', { timeout: 60_000, message: logTails() });
      await expectRow(name, 'worker', '');
    }
    await expectRow(LOCAL, 'manager', 'leader');
  }, 120_000);

  it('promotes node-a from its details panel: its row says manager and reachable, and swarmctl agrees', async () => {
    const details = await openDetails('node-a');
    await details.getByRole('button', { name: 'Promote' }).click();
    await hasText(notice(), 'node-a is becoming a manager');
    // The panel follows the node: once it is a manager, demoting is what it offers.
    await visible(details.getByRole('button', { name: 'Demote' }), { timeout: ROLE_CHANGE_MS });
    await closeDetails(details);
    await expectRow('node-a', 'manager', 'reachable');
    await untilLocal('swarmctl here to list node-a as a reachable manager', (rows) => rowNamed(rows, 'node-a').managerStatus === 'REACHABLE');
    // A working manager: swarmctl on node-a itself lists the cluster, with this machine's node leading.
    const own = await untilNodes(nodeA.socket, 'swarmctl on node-a to list it as a reachable manager', (rows) => rowNamed(rows, 'node-a').managerStatus === 'REACHABLE', 60_000);
    expect(rowNamed(own, LOCAL).managerStatus).toBe('REACHABLE *');
  }, 240_000);

  it('promotes node-b: three managers, and the Overview says 3 of 3 reachable with a healthy quorum', async () => {
    const details = await openDetails('node-b');
    await details.getByRole('button', { name: 'Promote' }).click();
    await hasText(notice(), 'node-b is becoming a manager');
    await closeDetails(details);
    await expectRow('node-b', 'manager', 'reachable');
    const rows = await untilLocal('three reachable managers', (r) => r.filter((x) => x.managerStatus.startsWith('REACHABLE')).length === 3);
    expect(rows.map((r) => `${r.name} ${r.managerStatus}`).sort()).toEqual([`${LOCAL} REACHABLE *`, 'node-a REACHABLE', 'node-b REACHABLE']);
    await shot('nodes-three-managers');

    await tab('Overview').click();
    await hasText(overviewLine('overview-managers', 'Reachable'), 'Reachable3 of 3', { timeout: 60_000 });
    await hasText(overviewLine('overview-managers', 'Quorum needs'), 'Quorum needs2');
    await hasText(overviewLine('overview-managers', 'Quorum'), 'Quorumhealthy');
    await hasText(overviewLine('overview-managers', 'Failures tolerated'), 'Failures tolerated1');
    await hasText(overviewLine('overview-nodes', 'Managers / workers'), 'Managers / workers3 / 0');
    await hasText(overviewLine('overview-cluster', 'Leader'), `Leader${LOCAL}`);
    await shot('overview-three-managers');
  }, 240_000);

  it('with node-b killed, demoting node-a is refused with the quorum reason and nothing changes', async () => {
    if (web === undefined) throw new Error('no server');
    nodeB.kill('SIGKILL');
    await nodeB.exited();
    await tab('Nodes').click();
    await hasText(cell('node-b', MANAGER_COLUMN), 'unreachable', { timeout: 60_000 });
    const before = (await web.services.host.control().getNode({ nodeId: rowNamed(await nodeRows(localSocket()), 'node-a').id })).node;

    const details = await openDetails('node-a');
    await details.getByRole('button', { name: 'Demote' }).click();
    const reason = new RegExp(`^Could not demote node-a: cannot demote node ${before.id}: the 2 remaining managers would need 2 reachable for a quorum, and only 1 are \\(FailedPrecondition\\)$`);
    const refusal = details.getByRole('alert');
    await hasText(refusal, reason);
    await hasText(notice(), reason);
    await shot('demote-refused');
    // Still offered (the refusal changed nothing), and the cluster agrees.
    await visible(details.getByRole('button', { name: 'Demote' }));
    await refusal.getByRole('button', { name: 'Close' }).click();
    await hidden(refusal);
    await closeDetails(details);
    await expectRow('node-a', 'manager', 'reachable', UI_TIMEOUT_MS);
    const after = (await web.services.host.control().getNode({ nodeId: before.id })).node;
    expect(after.spec).toEqual(before.spec);
    expect(after.role).toBe('manager');
    expect(rowNamed(await nodeRows(localSocket()), 'node-a').managerStatus).toBe('REACHABLE');

    // node-b comes back from its state directory, still a manager.
    await nodeB.start();
    await expectRow('node-b', 'manager', 'reachable', 60_000);
    await hasText(cell('node-b', STATUS_COLUMN), 'ready', { timeout: 60_000 });
  }, 240_000);

  it('demotes node-b back to a worker: two managers left', async () => {
    const details = await openDetails('node-b');
    await details.getByRole('button', { name: 'Demote' }).click();
    await hasText(notice(), 'node-b is becoming a worker');
    await visible(details.getByRole('button', { name: 'Promote' }), { timeout: ROLE_CHANGE_MS });
    await closeDetails(details);
    await expectRow('node-b', 'worker', '');
    await untilLocal('node-b READY as a worker', (rows) => rowNamed(rows, 'node-b').managerStatus === '' && rowNamed(rows, 'node-b').status === 'READY');
    await tab('Overview').click();
    await hasText(overviewLine('overview-managers', 'Reachable'), 'Reachable2 of 2', { timeout: 60_000 });
    await hasText(overviewLine('overview-nodes', 'Managers / workers'), 'Managers / workers2 / 1');
  }, 240_000);

  it('demoting the local node, the leader, asks first: Escape and Cancel change nothing; confirmed, leadership passes to node-a and the app says it has no cluster to show', async () => {
    if (web === undefined) throw new Error('no server');
    const control = web.services.host.control();
    await tab('Nodes').click();
    await expectRow(LOCAL, 'manager', 'leader', UI_TIMEOUT_MS);
    const localId = rowNamed(await nodeRows(localSocket()), LOCAL).id;
    const before = (await control.getNode({ nodeId: localId })).node;
    const details = await openDetails(LOCAL);
    const confirmation = page.getByRole('dialog', { name: `Demote ${LOCAL}, this machine?` });

    // The dialog says what follows and how to undo it, with Cancel focused: Enter out of habit cancels.
    await details.getByRole('button', { name: 'Demote' }).click();
    await visible(confirmation);
    await containsText(confirmation, 'It stops being a manager. If it leads the cluster now, leadership passes to another manager first.');
    await containsText(confirmation, 'This app can no longer show or manage the cluster from here');
    await containsText(confirmation, `swarmctl node promote ${localId}`);
    await focused(confirmation.getByRole('button', { name: 'Cancel' }));
    await shot('demote-self-confirm');
    // Escape closes the dialog only (the panel under it stays), and so does Cancel.
    await page.keyboard.press('Escape');
    await hidden(confirmation);
    await visible(details);
    await details.getByRole('button', { name: 'Demote' }).click();
    await confirmation.getByRole('button', { name: 'Cancel' }).click();
    await hidden(confirmation);
    // Nothing was asked of the cluster: the spec is as it was, the node still leads, the app still shows it.
    await visible(details.getByRole('button', { name: 'Demote' }));
    await closeDetails(details);
    const unchanged = (await control.getNode({ nodeId: localId })).node;
    expect(unchanged.spec).toEqual(before.spec);
    expect(unchanged.role).toBe('manager');
    expect(web.services.host.snapshot().role).toBe('manager');
    await expectRow(LOCAL, 'manager', 'leader', UI_TIMEOUT_MS);
    const status = page.getByTestId('local-node-status');
    await hasText(status, 'running');
    await hasClass(status, 'MuiChip-colorSuccess');

    await openDetails(LOCAL);
    await details.getByRole('button', { name: 'Demote' }).click();
    await confirmation.getByRole('button', { name: 'Demote' }).click();
    await hidden(confirmation);
    await hasText(notice(), `${LOCAL} is becoming a worker`);
    // Escape rather than Close: the panel may close by itself once the app's node stops being a manager.
    await page.keyboard.press('Escape');
    await hidden(details);
    // The row shows the change under way in full (the Role column is wide enough for it), and keeps
    // showing it: the app's store saw the demotion asked for, not finished, before it stopped being one.
    await hasText(cell(LOCAL, ROLE_COLUMN), 'manager → worker');
    await notClipped(cell(LOCAL, ROLE_COLUMN));
    // The cluster as node-a, its only manager now, sees it: node-a leads, this machine's node is a worker.
    const rows = await untilNodes(nodeA.socket, `node-a leading and ${LOCAL} a READY worker`, (r) =>
      rowNamed(r, 'node-a').managerStatus === 'REACHABLE *' && rowNamed(r, LOCAL).managerStatus === '' && rowNamed(r, LOCAL).status === 'READY',
    ROLE_CHANGE_MS);
    expect(rows.filter((r) => r.managerStatus !== '').map((r) => r.name)).toEqual(['node-a']);
    await expect.poll(() => web?.services.host.snapshot().role, { timeout: 60_000, interval: 250 }).toBe('worker');
    // With no manager here the app has no cluster store to show: it says why, and that what is on screen
    // is no longer kept up to date, rather than keep showing the last view as if it were live.
    const banner = page.getByRole('alert').filter({ hasText: 'Could not load the cluster' });
    await hasText(banner, /^Could not load the cluster: this node is not a manager right now \(it may have been demoted\) \(Unavailable\)/, { timeout: 60_000 });
    await visible(banner.getByRole('button', { name: 'Retry' }));
    await hasText(status, 'running (not synced)');
    await hasClass(status, 'MuiChip-colorWarning');
    await shot('local-demoted');
  }, 240_000);
});
