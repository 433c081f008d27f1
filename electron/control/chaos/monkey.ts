import type { Instance } from '../../contract.js';

/** Options of {@link ChaosMonkey}. */
export interface ChaosMonkeyOptions {
  /** The stack's instances now (undefined when nothing runs). */
  instances: () => Instance[] | undefined;
  /** Kills one replica (SIGKILL); the runtime brings it back. */
  kill: (id: string) => Promise<void>;
  /** Tells the timeline what happened (or why nothing did). */
  onKill: (id: string) => void;
  onSkip?: (reason: string) => void;
  /** @defaultValue Math.random */
  random?: () => number;
}

/**
 * Which replica the monkey may kill now: a ready api or worker replica, unless `maxDown` replicas
 * are already not ready, and never the last ready replica of its service.
 */
export function pickVictim(instances: Instance[], maxDown: number, random: () => number = Math.random): { id: string } | { skip: string } {
  const replicas = instances.filter((i) => i.service === 'api' || i.service === 'worker');
  const down = replicas.filter((i) => i.phase !== 'ready').length;
  if (down >= maxDown) return { skip: `${down} replica${down === 1 ? ' is' : 's are'} already down (max ${maxDown})` };
  const readyOf = (service: string) => replicas.filter((i) => i.service === service && i.phase === 'ready').length;
  const candidates = replicas.filter((i) => i.phase === 'ready' && readyOf(i.service) > 1);
  if (candidates.length === 0) return { skip: 'every service is down to its last ready replica' };
  return { id: candidates[Math.min(candidates.length - 1, Math.floor(random() * candidates.length))]!.id };
}

/**
 * The Chaos Monkey: every interval (±50 % jitter, so kills do not line up with sync periods or
 * probes) it kills one random replica, within the max-concurrent-outage guard.
 */
export class ChaosMonkey {
  enabled = false;
  intervalSeconds = 5;
  maxDown = 1;
  kills = 0;
  lastKillAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ChaosMonkeyOptions) {}

  /** Turns it on (or re-tunes it) or off. */
  set(enabled: boolean, intervalSeconds = this.intervalSeconds, maxDown = this.maxDown): void {
    this.enabled = enabled;
    this.intervalSeconds = intervalSeconds;
    this.maxDown = maxDown;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (enabled) this.schedule();
  }

  /** One round, now; resolves with the victim's id, if any. */
  async strike(): Promise<string | undefined> {
    const instances = this.options.instances();
    if (!instances) return undefined;
    const choice = pickVictim(instances, this.maxDown, this.options.random);
    if ('skip' in choice) {
      this.options.onSkip?.(choice.skip);
      return undefined;
    }
    await this.options.kill(choice.id);
    this.kills += 1;
    this.lastKillAt = Date.now();
    this.options.onKill(choice.id);
    return choice.id;
  }

  /** Stops it. Safe to call twice. */
  stop(): void {
    this.set(false);
  }

  private schedule(): void {
    const random = this.options.random ?? Math.random;
    const delay = this.intervalSeconds * 1000 * (0.5 + random());
    this.timer = setTimeout(() => {
      void this.strike()
        .catch(() => undefined)
        .finally(() => {
          if (this.enabled) this.schedule();
        });
    }, delay);
    this.timer.unref();
  }
}
