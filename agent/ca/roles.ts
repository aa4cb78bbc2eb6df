/**
 * A node's role is carried in its certificate's OU, as in SwarmKit; the same names are DNS SANs so a
 * client can check a manager by name ("swarm-manager") without knowing its address.
 */
export type NodeRole = 'worker' | 'manager';

export const MANAGER_ROLE_NAME = 'swarm-manager';
export const WORKER_ROLE_NAME = 'swarm-worker';

export function roleName(role: NodeRole): string {
  return role === 'manager' ? MANAGER_ROLE_NAME : WORKER_ROLE_NAME;
}

export function roleFromName(name: string): NodeRole | undefined {
  if (name === MANAGER_ROLE_NAME) return 'manager';
  if (name === WORKER_ROLE_NAME) return 'worker';
  return undefined;
}
