/** The training pipeline's own Python unit tests (training/tests), run as part of `npm test`. */
import { expect, it } from 'vitest';
import { PYTHON } from '../../scripts/lib/paths';
import { run } from '../support/run';

it('training/tests pass under Debian python3-torch', () => {
  const output = run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'training/tests'], {
    GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1',
  });
  console.log(output.trim().split('\n').slice(-3).join('\n'));
  expect(output).toMatch(/^OK/m);
  expect(output).toMatch(/Ran [1-9]\d* tests?/);
});
