// The README's JSON-file store (test-pack.mjs writes it into the scratch project as my-store.mjs)
// with one deliberate bug: scan keeps insertion order instead of byte order.
import { JsonFileStore } from './my-store.mjs';

class UnorderedStore extends JsonFileStore {
  *_scan(prefix) {
    const rows = [...super._scan(prefix)];
    yield* rows.reverse();
  }
}

export const openStore = (dir) => new UnorderedStore(dir);
