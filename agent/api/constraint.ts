/**
 * Placement constraints (`node.labels.zone==a`, `node.role!=manager`), after SwarmKit's constraint
 * rules: two operators, `==` and `!=`; values compare case-insensitively, label names exactly; a node
 * that lacks a label is treated as having the empty value, so `!=` matches it and `==` does not.
 *
 * One parser for everyone: the control API's spec validation refuses what it cannot parse (with the
 * reason, naming the field), the scheduler filters nodes with it, and the orchestrators use it to
 * tell whether a node still suits a task. Unlike SwarmKit, an unknown key is a parse error
 * rather than a constraint no node meets: a typo should say so, not leave the task pending with
 * "constraint not met" on every node.
 */

/** What a constraint can look at (the scheduler's NodeInfo, or a Node seen by the orchestrators). */
export interface ConstraintSubject {
  readonly id: string;
  readonly hostname: string;
  readonly role: string;
  readonly platform: { readonly os: string; readonly arch: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly engineLabels: Readonly<Record<string, string>>;
}

export type ConstraintOperator = '==' | '!=';

export interface Constraint {
  /** The expression as written, for messages. */
  readonly text: string;
  readonly key: string;
  readonly operator: ConstraintOperator;
  /** As written; compared ignoring case. */
  readonly value: string;
  readonly matches: (node: ConstraintSubject) => boolean;
}

export type ParsedConstraint = { ok: true; constraint: Constraint } | { ok: false; error: string };
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

const KNOWN = `${Object.keys(FIXED_ATTRIBUTES).join(', ')}, ${NODE_LABELS}<name> or ${ENGINE_LABELS}<name>`;

// SwarmKit's patterns (manager/constraint): keys are dotted words, values may hold glob-like punctuation.
const KEY_PATTERN = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE_PATTERN = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

type Reader = (node: ConstraintSubject) => string;

/** How to read the attribute `key` names, or why it names none. */
function attributeReader(key: string): Reader | string {
  const lower = key.toLowerCase();
  const fixed = FIXED_ATTRIBUTES[lower];
  if (fixed !== undefined) return fixed;
  // The prefix is case-insensitive (as in SwarmKit); the label name after it is not.
  const prefix = lower.startsWith(NODE_LABELS) ? NODE_LABELS : lower.startsWith(ENGINE_LABELS) ? ENGINE_LABELS : undefined;
  if (prefix !== undefined) {
    if (key.length === prefix.length) return `key "${key}" needs a label name`;
    const name = key.slice(prefix.length);
    return prefix === NODE_LABELS ? (n) => n.labels[name] ?? '' : (n) => n.engineLabels[name] ?? '';
  }
  return `unknown key "${key}" (use ${KNOWN})`;
}

/** One expression; throws nothing, returns the error text a person reads. */
export function parseConstraint(text: string): ParsedConstraint {
  const invalid = (why: string) => ({ ok: false as const, error: `invalid constraint "${text}": ${why}` });
  const eq = text.indexOf('==');
  const ne = text.indexOf('!=');
  if ((eq < 0) === (ne < 0) || text.indexOf(eq >= 0 ? '==' : '!=', (eq >= 0 ? eq : ne) + 2) >= 0) {
    return invalid('expected exactly one operator, == or !=');
  }
  const operator: ConstraintOperator = eq >= 0 ? '==' : '!=';
  const at = eq >= 0 ? eq : ne;
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 2).trim();
  if (key === '') return invalid('missing key before the operator');
  if (value === '') return invalid('missing value after the operator');
  if (!KEY_PATTERN.test(key)) return invalid(`key "${key}" is not a valid name`);
  const read = attributeReader(key);
  if (typeof read === 'string') return invalid(read);
  if (!VALUE_PATTERN.test(value)) return invalid(`value "${value}" may hold only letters, digits, spaces and - _ . : / * ( ) ? + [ ] \\ ^ $ |`);
  if (key.toLowerCase() === 'node.role' && value.toLowerCase() !== 'manager' && value.toLowerCase() !== 'worker') {
    return invalid('node.role is "manager" or "worker"');
  }
  const wanted = value.toLowerCase();
  const equal = operator === '==';
  return { ok: true, constraint: { text, key, operator, value, matches: (node) => (read(node).toLowerCase() === wanted) === equal } };
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

export function constraintsMatch(constraints: readonly Constraint[], node: ConstraintSubject): boolean {
  for (const c of constraints) if (!c.matches(node)) return false;
  return true;
}
