/** One create waiting for its batch. */
interface PendingCreate<T> {
  name: string;
  email: string;
  resolve(row: T | undefined): void;
  reject(err: unknown): void;
}

/** Options of {@link InsertBatcher}. */
export interface InsertBatcherOptions {
  /** Batches in flight at once; the rest of the pool stays free for reads. @defaultValue 4 */
  maxConcurrent?: number;
  /** Largest batch, in rows. @defaultValue 256 */
  maxBatch?: number;
}

/**
 * Group commit for user inserts. While `maxConcurrent` inserts are in flight, new creates wait and
 * then go together as one multi-row INSERT and one commit. An idle service sends each create at once,
 * so batching adds no latency when there is no load; under load it saves a commit (and its WAL flush)
 * per row. Durability is unchanged: every row is committed before its request is answered.
 *
 * `insertMany` receives the names and e-mails in request order and returns, for each position,
 * the inserted row or undefined when that e-mail was taken (by an existing user or an earlier
 * row of the same batch).
 */
export class InsertBatcher<T> {
  private readonly queue: PendingCreate<T>[] = [];
  private running = 0;
  private readonly maxConcurrent: number;
  private readonly maxBatch: number;

  constructor(
    private readonly insertMany: (names: string[], emails: string[]) => Promise<(T | undefined)[]>,
    options: InsertBatcherOptions = {},
  ) {
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.maxBatch = options.maxBatch ?? 256;
  }

  /** Inserts one row; resolves undefined when its e-mail is taken. */
  insert(name: string, email: string): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, email, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(batch: PendingCreate<T>[]): Promise<void> {
    try {
      const rows = await this.insertMany(
        batch.map((p) => p.name),
        batch.map((p) => p.email),
      );
      batch.forEach((pending, i) => pending.resolve(rows[i]));
    } catch (err) {
      for (const pending of batch) pending.reject(err);
    }
  }
}
