/**
 * Test databases made ahead from one template, so that a call hands one out at once and the copy it would
 * have waited for runs meanwhile: on the PostgreSQL server, or in libuv's file copy, never on this thread.
 */
export interface SpareMaker {
  /** Makes one database from the template; resolves to its name (PostgreSQL) or file (SQLite). */
  make(): Promise<string>;
  /** Removes one that was never handed out. */
  discard(handle: string): Promise<void>;
}

/** The spares of one template in this process. */
export class Spares {
  readonly #maker: SpareMaker;
  readonly #count: number;
  /** Oldest first; `undefined` when making one failed (the caller then makes its own and sees why). */
  readonly #pending: Array<Promise<string | undefined>> = [];
  #calls = 0;
  #released = false;

  constructor(maker: SpareMaker, count: number) {
    this.#maker = maker;
    this.#count = count;
  }

  /**
   * The oldest spare, awaited if still being made (it started before this call, so it is ready sooner than a
   * new one); `undefined` when there is none.
   */
  async take(): Promise<string | undefined> {
    this.#calls++;
    while (this.#pending.length > 0) {
      const handle = await this.#pending.shift()!;
      if (handle !== undefined) return handle;
    }
    return undefined;
  }

  /**
   * Starts making spares up to the count, from the second call on: a process that asks once (one database
   * per test file) makes no database it will not use.
   */
  refill(): void {
    if (this.#released || this.#calls < 2) return;
    while (this.#pending.length < this.#count) this.#pending.push(this.#maker.make().catch(() => undefined));
  }

  /** Stops refilling and removes every spare, waiting for those being made. */
  async release(): Promise<void> {
    this.#released = true;
    for (const pending of this.#pending.splice(0)) {
      const handle = await pending;
      if (handle !== undefined) await this.#maker.discard(handle).catch(() => undefined);
    }
  }
}

interface Entry {
  template: string;
  spares: Spares;
}

// Per group (one server or folder, one migrations source, one way of copying): the spares of its current template.
const groups = new Map<string, Entry>();
let exitHooked = false;

/**
 * The spares of `template` in `group`. A group holds one template at a time: when the files change, the call
 * names a new template and the old one's spares are removed before anything else happens, so a spare of a
 * superseded template is never handed out.
 */
export async function sparesOf(group: string, template: string, create: () => Spares): Promise<Spares> {
  const entry = groups.get(group);
  if (entry?.template === template) return entry.spares;
  const spares = create();
  groups.set(group, { template, spares });
  hookExit();
  if (entry !== undefined) await entry.spares.release();
  return spares;
}

/** Removes this process's spares in the groups whose name starts with `prefix` (a server or a folder). */
export async function releaseSpares(prefix: string): Promise<void> {
  for (const [group, entry] of groups) {
    if (!group.startsWith(prefix)) continue;
    groups.delete(group);
    await entry.spares.release();
  }
}

// When the event loop empties, the spares are removed (which refills the loop once; the next time it is empty,
// there is nothing left). A process that is killed or calls process.exit() leaves them to the crashed-run
// cleanup, which recognises them like any test database whose process is gone.
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('beforeExit', () => {
    if (groups.size > 0) void releaseSpares('');
  });
}
