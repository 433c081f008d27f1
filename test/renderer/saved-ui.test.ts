import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../renderer/store/app-store.js';
import type { Bridge } from '../../renderer/store/types.js';
import { parseSavedUi } from '../../renderer/store/ui-slice.js';

describe('the saved view preferences (local storage, parsed as untrusted)', () => {
  it('keeps what it knows and drops the rest', () => {
    expect(parseSavedUi(JSON.stringify({ theme: 'light', projector: true, collapsed: ['chaos', 'traffic', 'chaos'] }))).toEqual({
      theme: 'light',
      projector: true,
      collapsed: ['chaos', 'traffic'],
    });
    expect(parseSavedUi(JSON.stringify({ theme: 'neon', projector: 'yes', collapsed: ['topology', 7, null, 'capacity'] }))).toEqual({
      theme: undefined,
      projector: undefined,
      collapsed: ['capacity'],
    });
    for (const text of [null, '', 'not json', '[]', '"dark"', 'null', '{"collapsed":"chaos"}'])
      expect(parseSavedUi(text), String(text)).toEqual(expect.not.objectContaining({ collapsed: expect.anything() }));
  });

  it('a folded panel opens again, and the store starts with the saved folds', () => {
    const store = createAppStore({} as Bridge, parseSavedUi('{"collapsed":["traces"]}')).store;
    expect(store.getState().collapsed).toEqual(['traces']);
    store.getState().toggleCollapsed('chaos');
    store.getState().toggleCollapsed('traces');
    expect(store.getState().collapsed).toEqual(['chaos']);
  });
});
