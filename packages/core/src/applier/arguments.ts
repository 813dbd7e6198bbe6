import { U64_MAX } from '../codec/wire.js';
import { ErrorCode, KeyledgerError, invalidArgument } from '../errors.js';
import type { GroupItem } from './apply-group.js';

// The applier's argument checks (ERR_INVALID_ARGUMENT, never a halt): all of a call's arguments
// are checked when the call is made, before any of its entries is applied. A bad item in
// `applyEntries` is treated like a halt at its position: the entries before it are applied and
// committed, it and those after it change nothing. docs/design.md, 'Applier'.

function where(position: number | undefined): string {
  return position === undefined ? '' : `entries[${position}]: `;
}

function checkIndex(index: unknown, position: number | undefined): bigint | undefined {
  if (index === undefined) return undefined;
  if (typeof index !== 'bigint') {
    throw invalidArgument(
      `${where(position)}a raft index must be a bigint (e.g. 42n), got ${index === null ? 'null' : typeof index}`,
      position,
    );
  }
  if (index < 0n || index > U64_MAX) throw invalidArgument(`${where(position)}a raft index must be in 0..2^64-1, got ${index}`, position);
  return index;
}

function checkBytes(entry: unknown, position: number | undefined): Uint8Array {
  if (!(entry instanceof Uint8Array)) {
    throw invalidArgument(`${where(position)}an entry must be a Uint8Array, got ${entry === null ? 'null' : typeof entry}`, position);
  }
  return entry;
}

/** The arguments of `applyEntry(entry, index)`. */
export function checkEntry(entry: unknown, index: unknown): GroupItem {
  return { entry: checkBytes(entry, undefined), index: checkIndex(index, undefined) };
}

/**
 * The argument of `applyEntries(entries)`: an iterable of `{ entry, index? }`, every item checked.
 * Returns the items before the first bad one and, when there is one, its ERR_INVALID_ARGUMENT
 * (with its position); an argument that is not an iterable at all throws.
 */
export function checkEntries(entries: unknown): { items: GroupItem[]; invalid?: KeyledgerError } {
  if (entries === null || typeof entries !== 'object' || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw invalidArgument(`applyEntries takes an iterable of { entry, index? }, got ${entries === null ? 'null' : typeof entries}`);
  }
  let list: unknown[];
  try {
    list = [...(entries as Iterable<unknown>)];
  } catch (err) {
    throw new KeyledgerError(ErrorCode.INVALID_ARGUMENT, 'iterating the entries given to applyEntries threw', { cause: err });
  }
  const items: GroupItem[] = [];
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    try {
      if (item === null || typeof item !== 'object')
        throw invalidArgument(`entries[${i}] must be { entry, index? }, got ${item === null ? 'null' : typeof item}`, i);
      const { entry, index } = item as { entry?: unknown; index?: unknown };
      items.push({ entry: checkBytes(entry, i), index: checkIndex(index, i) });
    } catch (err) {
      return { items, invalid: err as KeyledgerError };
    }
  }
  return { items };
}
