/** A progress bar for long runs, written to stderr so stdout stays clean for tables and JSON. */
import type { OutputStream } from './context';

/**
 * On a terminal, one line redrawn in place (at most every 100 ms): bar, count, percentage, rate
 * and time left. Elsewhere (CI logs, a test's pipe), a plain line at each tenth of the way, so
 * logs stay short and readable.
 *
 * @example
 * const bar = new ProgressBar(process.stderr, 'classifying');
 * await classifier.classifyBatch(texts, { onProgress: (done, total) => bar.update(done, total) });
 * bar.finish();
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastTenth = -1;
  private drawn = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly label: string,
  ) {}

  update(done: number, total: number): void {
    if (this.stream.isTTY) {
      const now = Date.now();
      if (done < total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(done, total)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const tenth = total === 0 ? 10 : Math.floor((10 * done) / total);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.stream.write(
      `${this.label} ${done}/${total} (${Math.round((100 * done) / Math.max(1, total))}%)\n`,
    );
  }

  /** Ends the redrawn line on a terminal; a no-op elsewhere. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  private line(done: number, total: number): string {
    const share = total === 0 ? 1 : done / total;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? Math.ceil((total - done) / rate) : 0;
    const tail = ` ${done}/${total} ${(100 * share).toFixed(0)}% ${rate.toFixed(1)}/s ETA ${left}s`;
    const room = (this.stream.columns ?? 80) - this.label.length - tail.length - 4;
    const width = Math.max(10, Math.min(40, room));
    const filled = Math.round(share * width);
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
  }
}
