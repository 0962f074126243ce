// One 20 ms clock for every session. Frames are due on an ideal timeline
// (start + n·20 ms, monotonic clock), so timer lateness never accumulates into drift;
// a late wake-up sends the missed frames at once. After a long stall (event loop
// blocked) the timeline restarts instead of bursting seconds of audio.
import { performance } from 'node:perf_hooks';

export const FRAME_MS = 20;
const MAX_CATCH_UP = 5;

export interface PacedStream {
  /** Send one frame; `skipped` frames before it were never sent (advance the timestamp over them). */
  sendFrame(skipped: number): void;
}

export class Pacer {
  private readonly streams = new Set<PacedStream>();
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  /** Frames sent late or dropped by a stall, for metrics. */
  lateTicks = 0;
  stalls = 0;
  /** Frames a stream failed to send (should stay 0). */
  failures = 0;

  add(stream: PacedStream): void {
    this.streams.add(stream);
    if (!this.timer) {
      this.next = performance.now() + FRAME_MS;
      this.schedule();
    }
  }

  delete(stream: PacedStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(this.run, Math.max(0, Math.floor(this.next - performance.now())));
  }

  private readonly run = (): void => {
    const now = performance.now();
    // Timers fire on whole milliseconds, so "due" allows one millisecond of earliness.
    let due = Math.floor((now + 1 - this.next) / FRAME_MS) + 1;
    if (due < 1) {
      this.schedule();
      return;
    }
    let skipped = 0;
    if (due > MAX_CATCH_UP) {
      this.stalls++;
      skipped = due - 1;
      due = 1;
      this.next = now;
    } else if (due > 1) this.lateTicks++;
    for (let f = 0; f < due; f++) {
      for (const stream of this.streams) {
        // One broken stream must not stop the clock every other call depends on.
        try {
          stream.sendFrame(f === 0 ? skipped : 0);
        } catch {
          this.failures++;
        }
      }
    }
    this.next += due * FRAME_MS;
    if (this.streams.size > 0) this.schedule();
    else this.timer = undefined;
  };
}
