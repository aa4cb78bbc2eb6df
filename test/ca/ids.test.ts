import { describe, expect, it } from 'vitest';
import { ID_LENGTH, isValidId, newClusterId, newNodeId } from '../../agent/ca';

describe('ids', () => {
  it('are 25 lower-case base-36 characters and distinct', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = i % 2 === 0 ? newNodeId() : newClusterId();
      expect(id).toMatch(/^[0-9a-z]{25}$/);
      ids.add(id);
    }
    expect(ID_LENGTH).toBe(25);
    expect(ids.size).toBe(2000);
  });

  it('validates the format', () => {
    expect(isValidId('0'.repeat(25))).toBe(true);
    expect(isValidId('A'.repeat(25))).toBe(false);
    expect(isValidId('a'.repeat(24))).toBe(false);
    expect(isValidId('a'.repeat(24) + '-')).toBe(false);
  });
});
