/**
 * Placement constraints (`node.labels.zone==a`, `node.role!=manager`), after SwarmKit's constraint
 * rules: two operators, `==` and `!=`; values compare case-insensitively, label names exactly; a node
 * that lacks a label is treated as having the empty value, so `!=` matches it and `==` does not.
 * Unlike SwarmKit, an unknown attribute is a parse error rather than a constraint no node meets: a
 * typo should say so, not leave the task pending with "constraint not met" on every node.
 */

/** What a constraint can look at; NodeInfo provides it. */
export interface ConstraintSubject {
  readonly id: string;
  readonly hostname: string;
  readonly role: string;
  readonly platform: { readonly os: string; readonly arch: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly engineLabels: Readonly<Record<string, string>>;
}

export interface Constraint {
  /** The expression as written, for messages. */
  readonly text: string;
  readonly equal: boolean;
  /** Lower-cased value (comparisons ignore case). */
  readonly value: string;
  readonly read: (node: ConstraintSubject) => string;
}

export type ParsedConstraints = { ok: true; constraints: readonly Constraint[] } | { ok: false; error: string };

const NODE_LABELS = 'node.labels.';
const ENGINE_LABELS = 'engine.labels.';

const FIXED_ATTRIBUTES: Readonly<Record<string, (node: ConstraintSubject) => string>> = {
  'node.id': (n) => n.id,
  'node.hostname': (n) => n.hostname,
  'node.role': (n) => n.role,
  'node.platform.os': (n) => n.platform.os,
  'node.platform.arch': (n) => n.platform.arch,
};

const KNOWN = 'node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>';

function attributeReader(key: string): ((node: ConstraintSubject) => string) | undefined {
  const lower = key.toLowerCase();
  const fixed = FIXED_ATTRIBUTES[lower];
  if (fixed !== undefined) return fixed;
  // The prefix is case-insensitive (as in SwarmKit); the label name after it is not.
  if (lower.startsWith(NODE_LABELS) && key.length > NODE_LABELS.length) {
    const name = key.slice(NODE_LABELS.length);
    return (n) => n.labels[name] ?? '';
  }
  if (lower.startsWith(ENGINE_LABELS) && key.length > ENGINE_LABELS.length) {
    const name = key.slice(ENGINE_LABELS.length);
    return (n) => n.engineLabels[name] ?? '';
  }
  return undefined;
}

/** One expression; throws nothing, returns the error text a person reads. */
export function parseConstraint(text: string): { ok: true; constraint: Constraint } | { ok: false; error: string } {
  const eq = text.indexOf('==');
  const ne = text.indexOf('!=');
  const invalid = (why: string) => ({ ok: false as const, error: `invalid constraint "${text}": ${why}` });
  if ((eq < 0) === (ne < 0) || text.indexOf(eq >= 0 ? '==' : '!=', (eq >= 0 ? eq : ne) + 2) >= 0) {
    return invalid('expected exactly one operator, == or !=');
  }
  const at = eq >= 0 ? eq : ne;
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 2).trim();
  if (key === '') return invalid('missing attribute before the operator');
  if (value === '') return invalid('missing value after the operator');
  if (/[=!<>]/.test(value)) return invalid(`value "${value}" contains an operator character`);
  const read = attributeReader(key);
  if (read === undefined) return invalid(`unknown attribute "${key}" (use ${KNOWN})`);
  return { ok: true, constraint: { text, equal: eq >= 0, value: value.toLowerCase(), read } };
}

/** All of a placement's constraints, or the first error. */
export function parseConstraints(texts: readonly string[] | undefined): ParsedConstraints {
  const constraints: Constraint[] = [];
  for (const text of texts ?? []) {
    const parsed = parseConstraint(text);
    if (!parsed.ok) return parsed;
    constraints.push(parsed.constraint);
  }
  return { ok: true, constraints };
}

export function constraintMatches(c: Constraint, node: ConstraintSubject): boolean {
  return (c.read(node).toLowerCase() === c.value) === c.equal;
}

export function constraintsMatch(constraints: readonly Constraint[], node: ConstraintSubject): boolean {
  for (const c of constraints) if (!constraintMatches(c, node)) return false;
  return true;
}
