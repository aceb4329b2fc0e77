/**
 * v86 runs the guest in 1 ms slices and, between two, hands the main thread back through a
 * postMessage round trip to a timer worker. In Chromium that hand-back cost about 0.5 ms each: a
 * CPU profile of a first `docker run` showed 3.6 s of its 28 s in postMessage alone. Running
 * busy slices back to back for up to SLICE_MS before yielding keeps the page responsive (a frame
 * is 16 ms) and cut `docker run` and a shell loop by 10–15 % in the bench's set-up.
 */
export const SLICE_MS = 8;

/** The parts of v86's internal main-loop object (`emulator.v86`) this patches. */
export interface V86Loop {
  running: boolean;
  stopping: boolean;
  idle: boolean;
  cpu: { main_loop(): number };
  do_tick(): void;
  next_tick(t: number): void;
}

/** Replaces do_tick with one that keeps running while the guest is busy; false if v86 differs. */
export function longerSlices(v: V86Loop | undefined): boolean {
  if (!v || typeof v.do_tick !== 'function' || typeof v.next_tick !== 'function' || typeof v.cpu?.main_loop !== 'function') return false;
  const original = v.do_tick.bind(v);
  v.do_tick = () => {
    if (v.stopping || !v.running) return original();
    v.idle = false;
    const end = performance.now() + SLICE_MS;
    // main_loop returns 0 after a full busy slice, else the ms until the next timer of a halted
    // guest: only busy slices are joined, so a guest waiting for I/O yields at once.
    let t = v.cpu.main_loop();
    while (t === 0 && performance.now() < end) t = v.cpu.main_loop();
    v.next_tick(t);
  };
  return true;
}
