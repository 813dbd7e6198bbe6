/**
 * What a store must release when it closes — a handle the caller gave it to own, a lock it took —
 * released in the reverse order they were taken, each once. An adapter's `_close` is then
 * `return this.#owned.releaseAll()`, whatever it owns.
 *
 * @example
 * if (options.closeHandle) this.#owned.own(() => db.close());
 */
export class OwnedResources {
  #releases: (() => unknown)[] = [];

  /** Registers `release`, to run at {@link releaseAll} before everything registered earlier. */
  own(release: () => unknown): void {
    this.#releases.push(release);
  }

  /**
   * Runs every registered release, newest first, and forgets them. All run even when one fails;
   * the first failure is then thrown (the base store reports it as `ERR_STORE_IO`).
   */
  async releaseAll(): Promise<void> {
    const releases = this.#releases.reverse();
    this.#releases = [];
    let failure: { err: unknown } | undefined;
    for (const release of releases) {
      try {
        await release();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  /**
   * Runs an adapter's `open()` steps. Each step registers what it acquired (a lock, a native
   * handle) with {@link own}; when a later step throws — a refusal, `ERR_STORE_NOT_FOUND`, a
   * backend error — everything acquired so far is released, newest first, before the error is
   * rethrown: a refused open leaves no descriptor, lock or environment behind. On success the
   * store that `steps` returns has taken everything over.
   */
  async openOrRelease<T>(steps: () => T | Promise<T>): Promise<T> {
    try {
      return await steps();
    } catch (err) {
      // The refusal is what the caller must see; a failed release of a handle nobody holds adds nothing.
      await this.releaseAll().catch(() => undefined);
      throw err;
    }
  }
}
