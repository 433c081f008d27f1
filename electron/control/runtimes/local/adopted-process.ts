import { EventEmitter } from 'node:events';

/** The part of a ChildProcess that supervision needs, so adopted pids can be supervised alike. */
export interface ProcessLike {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** True while `pid` exists (signal 0 probes without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process this control plane did not spawn (a previous control plane did) but now supervises.
 * It is not our child, so its exit is noticed by polling; its exit code is unknown.
 */
export class AdoptedProcess extends EventEmitter implements ProcessLike {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    pollMs = 200,
  ) {
    super();
    this.timer = setInterval(() => {
      if (isAlive(this.pid)) return;
      clearInterval(this.timer);
      this.signalCode = 'SIGKILL';
      this.emit('exit', null, this.signalCode);
    }, pollMs);
    this.timer.unref();
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
