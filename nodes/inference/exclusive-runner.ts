/**
 * Runs inference one model at a time, the latest stage first.
 *
 * On a small machine two sessions running at once only split the same cores: each run takes
 * twice as long, and a frame's latency becomes the sum of both slowed-down runs. Run one at a
 * time, each model gets the whole machine. Among waiting runs, the one from the later stage of
 * the graph goes first (a frame already half through is finished before a new one starts), then
 * the one that has waited longest; that keeps latency low without starving any stream.
 */
export class ExclusiveRunner {
  private busy = false;
  private order = 0;
  private readonly waiting: { priority: number; order: number; start: () => void }[] = [];

  run<T>(priority: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.busy = true;
        work()
          .then(resolve, reject)
          .finally(() => {
            this.busy = false;
            this.next();
          });
      };
      if (!this.busy) start();
      else this.waiting.push({ priority, order: this.order++, start });
    });
  }

  private next(): void {
    if (this.waiting.length === 0) return;
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const w = this.waiting[i]!;
      const b = this.waiting[best]!;
      if (w.priority > b.priority || (w.priority === b.priority && w.order < b.order)) best = i;
    }
    const [chosen] = this.waiting.splice(best, 1);
    chosen!.start();
  }
}
