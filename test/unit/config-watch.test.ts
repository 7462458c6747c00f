import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFile } from '../../src/config/watch.ts';

/** A watched file in a fresh folder; `changes` counts onChange calls and `next()` awaits one. */
function watched(debounceMs = 50) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-watch-'));
  const file = join(dir, 'kong.yml');
  writeFileSync(file, 'one');
  const events = new EventEmitter();
  let changes = 0;
  const watch = watchFile(file, () => {
    changes++;
    events.emit('change');
  }, { debounceMs });
  return {
    dir,
    file,
    get changes() {
      return changes;
    },
    next: () => once(events, 'change'),
    close: () => {
      watch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('watchFile', () => {
  test('a burst of writes is one change; the next write is another', async () => {
    const w = watched();
    try {
      const first = w.next();
      for (const text of ['two', 'three', 'four']) writeFileSync(w.file, text);
      await first;
      assert.equal(w.changes, 1);
      const second = w.next();
      writeFileSync(w.file, 'five');
      await second;
      assert.equal(w.changes, 2, 'the burst did not leave extra calls behind');
    } finally {
      w.close();
    }
  });

  test('an editor that saves by renaming a temporary file over the original is seen, again and again', async () => {
    const w = watched();
    try {
      for (const text of ['saved once', 'saved twice']) {
        const change = w.next();
        writeFileSync(join(w.dir, '.kong.yml.swp'), text);
        renameSync(join(w.dir, '.kong.yml.swp'), w.file);
        await change;
      }
      assert.equal(w.changes, 2);
    } finally {
      w.close();
    }
  });

  test('other files in the folder are ignored; a deleted file is a change, and so is its return', async () => {
    const w = watched();
    try {
      const deleted = w.next();
      writeFileSync(join(w.dir, 'unrelated.txt'), 'x');
      rmSync(w.file);
      await deleted;
      assert.equal(w.changes, 1, 'the unrelated write did not count');
      const back = w.next();
      writeFileSync(w.file, 'back');
      await back;
      assert.equal(w.changes, 2);
    } finally {
      w.close();
    }
  });

  test('a file in a folder that does not exist cannot be watched: a clear error at once', () => {
    assert.throws(() => watchFile(join(tmpdir(), 'sluice-no-such-dir', 'kong.yml'), () => {}), /ENOENT/);
  });
});
