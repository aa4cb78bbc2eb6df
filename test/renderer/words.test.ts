import { describe, expect, it } from 'vitest';
import { joinWords, splitWords } from '../../renderer/src/forms/words';

describe('splitWords / joinWords', () => {
  it('splits like a shell', () => {
    expect(splitWords(`sh -c "echo hello; sleep 1"`)).toEqual(['sh', '-c', 'echo hello; sleep 1']);
    expect(splitWords(`a\\ b 'c d' ""`)).toEqual(['a b', 'c d', '']);
    expect(splitWords('   ')).toEqual([]);
  });

  it('refuses an unclosed quote', () => {
    expect(() => splitWords('echo "hi')).toThrow(/unclosed/);
  });

  it('round-trips', () => {
    for (const words of [['sh', '-c', "it's here"], ['', 'x'], ['--port=80', '/bin/true']]) expect(splitWords(joinWords(words))).toEqual(words);
  });
});
