import { PAT_KINDS } from '@alphaswarm/contracts/kinds';
import { describe, expect, it } from 'vitest';
import { steps } from './index';

describe('connect steps', () => {
  it('finds exactly one form per PAT kind, by its file name', () => {
    expect(Object.keys(steps).sort()).toEqual([...PAT_KINDS].sort());
    for (const kind of PAT_KINDS) expect(typeof steps[kind], kind).toBe('function');
  });
});
