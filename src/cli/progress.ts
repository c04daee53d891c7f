import type { CommandIO } from './io';

/**
 * A one-line progress display on a terminal (standard error), redrawn at most ten times a second:
 * items and bytes done of the total, events sent, rate and time left. Nothing is drawn when standard
 * error is not a terminal; the summary line at the end is printed either way.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  done = 0;
  bytes = 0;
  events = 0;

  constructor(
    private readonly io: CommandIO,
    private readonly label: string,
    private readonly totalItems: number,
    private readonly totalBytes: number,
  ) {}

  update(change: { items?: number; bytes?: number; events?: number }): void {
    this.done += change.items ?? 0;
    this.bytes += change.bytes ?? 0;
    this.events += change.events ?? 0;
    const now = Date.now();
    if (this.io.stderr.isTTY && (now - this.lastDraw > 100 || this.done === this.totalItems)) {
      this.lastDraw = now;
      this.io.stderr.write(`\r${this.line(now)}\x1b[K`);
    }
  }

  /** Clears the progress line. */
  finish(): void {
    if (this.io.stderr.isTTY) this.io.stderr.write('\r\x1b[K');
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  private line(now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.bytes / seconds;
    const fraction = this.totalBytes > 0 ? Math.min(this.bytes / this.totalBytes, 1) : this.done / Math.max(this.totalItems, 1);
    const width = 20;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const eta = rate > 0 && this.totalBytes > this.bytes ? formatDuration(((this.totalBytes - this.bytes) / rate) * 1000) : '-';
    return `${this.label} [${bar}] ${this.done}/${this.totalItems} blobs  ${formatBytes(this.bytes)}/${formatBytes(this.totalBytes)}  ${this.events} events  ${formatBytes(rate)}/s  ETA ${eta}`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
