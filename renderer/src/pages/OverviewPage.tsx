/** The cluster at a glance, and the join tokens new machines need. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useMemo, type ReactNode } from 'react';
import { nodeName } from '../format';
import { useClusterSummary, useNodes, useServices, useTasks } from '../store/hooks';
import { nodeCounts, serviceHealthCounts, taskCounts } from '../store/overview';
import { JoinTokensCard } from './JoinTokensCard';
import { LocalNodeCard } from './LocalNodeCard';
import { Page, PageHeader } from '../components/PageHeader';

function Stat({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <Card variant="outlined" component="section" aria-label={title} data-testid={testId}>
      <CardContent>
        <Typography variant="overline" component="h2" color="text.secondary">
          {title}
        </Typography>
        {children}
      </CardContent>
    </Card>
  );
}

function Line({ label, value }: { label: string; value: ReactNode }) {
  return (
    <Box sx={{ display: 'flex', justifyContent: 'space-between', gap: 2, py: 0.25 }}>
      <Typography variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="body2" component="div" sx={{ textAlign: 'right', overflowWrap: 'anywhere' }}>
        {value}
      </Typography>
    </Box>
  );
}

export function OverviewPage() {
  const cluster = useClusterSummary();
  const nodes = useNodes();
  const services = useServices();
  const tasks = useTasks();
  const nodeStats = useMemo(() => nodeCounts(nodes.values()), [nodes]);
  const taskStats = useMemo(() => taskCounts(tasks.values()), [tasks]);
  const health = useMemo(() => serviceHealthCounts(services.values()), [services]);
  const leader = cluster?.leaderNodeId !== undefined ? nodes.get(cluster.leaderNodeId) : undefined;

  return (
    <Page label="Overview">
      <PageHeader title="Overview" subtitle={cluster ? `Cluster ${cluster.name}` : 'Loading the cluster…'} />
      {cluster && !cluster.hasQuorum && (
        <Alert severity="error" role="alert">
          {`The cluster has lost its quorum: ${cluster.managers.reachable} of ${cluster.managers.total} managers are reachable and ${cluster.managers.quorum} are needed. Nothing can change until enough managers are back.`}
        </Alert>
      )}
      <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(280px, 1fr))', gap: 2, overflow: 'auto' }}>
        <Stat title="Cluster" testId="overview-cluster">
          <Line label="Name" value={cluster?.name ?? '—'} />
          <Line label="ID" value={<code>{cluster?.id ?? '—'}</code>} />
          <Line label="Leader" value={leader ? nodeName(leader) : (cluster?.leaderNodeId ?? 'none')} />
        </Stat>
        <Stat title="Managers" testId="overview-managers">
          <Line label="Reachable" value={cluster ? `${cluster.managers.reachable} of ${cluster.managers.total}` : '—'} />
          <Line label="Quorum needs" value={cluster?.managers.quorum ?? '—'} />
          <Line label="Quorum" value={cluster ? (cluster.hasQuorum ? 'healthy' : 'lost') : '—'} />
          <Line label="Failures tolerated" value={cluster ? Math.max(0, cluster.managers.reachable - cluster.managers.quorum) : '—'} />
        </Stat>
        <Stat title="Nodes" testId="overview-nodes">
          <Line label="Total" value={nodeStats.total} />
          <Line label="Ready" value={nodeStats.ready} />
          <Line label="Managers / workers" value={`${nodeStats.managers} / ${nodeStats.workers}`} />
          <Line label="Drained" value={nodeStats.drained} />
        </Stat>
        <Stat title="Tasks" testId="overview-tasks">
          <Line label="Desired running" value={taskStats.desired} />
          <Line label="Running" value={taskStats.running} />
          <Line label="Failed or rejected" value={taskStats.failed} />
        </Stat>
        <Stat title="Services" testId="overview-services">
          <Line label="Total" value={services.size} />
          <Line label="Healthy" value={health.healthy} />
          <Line label="Converging" value={health.converging} />
          <Line label="Updating" value={health.updating} />
          <Line label="Paused" value={health.paused} />
          <Line label="Down" value={health.down} />
        </Stat>
        <LocalNodeCard />
      </Box>
      <JoinTokensCard />
    </Page>
  );
}
