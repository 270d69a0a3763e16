/**
 * CPU priority of a thread (Linux): background work at a higher niceness, as Swift runs its daemons with
 * `nice_priority`. The kernel schedules each thread by its own nice value (`setpriority(PRIO_PROCESS, tid)`),
 * so one worker thread of a process can yield to the others — the event loop serving requests, the other
 * processes — whenever they want the cores, and use them when they are idle.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** This thread's kernel thread id (Linux: `/proc/thread-self` → `<pid>/task/<tid>`); undefined elsewhere. */
export function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Raises this thread's niceness to `nice` (1–19) unless it is that high already; true when it is now at
 * least `nice`. Lowering a thread's priority needs no privilege. 0 (or less) leaves it alone.
 */
export function niceThisThread(nice: number): boolean {
  if (nice <= 0) return false;
  const tid = threadId();
  if (tid === undefined) return false;
  try {
    if (getPriority(tid) < nice) setPriority(tid, Math.min(19, nice));
    return getPriority(tid) >= Math.min(19, nice);
  } catch {
    return false;
  }
}
