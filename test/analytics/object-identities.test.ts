/** Which object a track is: re-entry within a time and distance, and state that is let go. */
import { describe, expect, it } from 'vitest';
import { ObjectIdentities, type TrackSighting } from '../../nodes/analytics/object-identities.ts';

const DIAGONAL = 1000;
const car = (trackId: number, x: number, state: TrackSighting['state'] = 'confirmed'): TrackSighting => ({
  trackId,
  classId: 13,
  state,
  anchor: [x, 100],
});

describe('ObjectIdentities', () => {
  it('makes a newcomer near a lost track the same object, and lets its provisional object go', () => {
    const ids = new ObjectIdentities({ withinMs: 1000, withinDistance: 0.1 });
    ids.update([car(1, 100)], 0, DIAGONAL);
    ids.update([car(1, 110, 'lost'), car(2, 130, 'tentative')], 40, DIAGONAL);
    const gone = ids.update([car(1, 120, 'lost'), car(2, 140)], 80, DIAGONAL);
    expect(ids.objectId(2)).toBe(1);
    // Track 2 was object 2 while tentative; that object is no more.
    expect(gone).toEqual([2]);
  });

  it('never merges with withinMs 0 (re-entry off)', () => {
    const ids = new ObjectIdentities({ withinMs: 0, withinDistance: 0.1 });
    ids.update([car(1, 100)], 0, DIAGONAL);
    ids.update([car(1, 100, 'lost'), car(2, 105)], 40, DIAGONAL);
    expect(ids.objectId(2)).toBe(2);
  });

  it('does not let a track lost longer than the window be claimed, however long the tracker keeps it', () => {
    const ids = new ObjectIdentities({ withinMs: 100, withinDistance: 0.1 });
    ids.update([car(1, 100)], 0, DIAGONAL);
    for (let t = 40; t <= 400; t += 40) ids.update([car(1, 100, 'lost')], t, DIAGONAL);
    ids.update([car(1, 100, 'lost'), car(2, 102)], 440, DIAGONAL);
    expect(ids.objectId(2)).toBe(2);
  });

  it('reports an object gone once its track is removed and the window has passed', () => {
    const ids = new ObjectIdentities({ withinMs: 100, withinDistance: 0.1 });
    ids.update([car(1, 100)], 0, DIAGONAL);
    ids.update([car(1, 100, 'lost')], 40, DIAGONAL);
    expect(ids.update([], 80, DIAGONAL)).toEqual([]);
    expect(ids.update([], 200, DIAGONAL)).toEqual([1]);
  });
});
