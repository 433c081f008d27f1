import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { clockText, playerButtons, progressFraction, type PlayerButton } from './scenario-data.js';

/** Elapsed over duration as a bar with `m:ss / m:ss`, then Play (Resume), Pause, Step, Reset. */
export function PlayerControls() {
  const { status, busy, play, pause, step, reset } = useAppStore(
    useShallow((s) => ({
      status: s.scenario,
      busy: s.scenarioBusy,
      play: s.playScenario,
      pause: s.pauseScenario,
      step: s.stepScenario,
      reset: s.resetScenario,
    })),
  );
  const buttons = playerButtons(status, busy);
  const fraction = progressFraction(status);
  const clock = clockText(status);
  const button = (
    b: PlayerButton,
    command: 'scenario:play' | 'scenario:pause' | 'scenario:step' | 'scenario:reset',
    run: () => Promise<boolean>,
    primary = false,
  ) => (
    <button
      className={primary && b.enabled ? 'primary' : ''}
      disabled={!b.enabled}
      aria-busy={busy === command}
      title={b.title}
      onClick={() => void run()}
    >
      {b.label}
    </button>
  );
  return (
    <div className="scenario-player">
      <div
        className={`scenario-progress state-${status?.state ?? 'idle'}`}
        role="progressbar"
        aria-label="Scenario progress"
        aria-valuemin={0}
        aria-valuemax={status?.durationS ?? 0}
        aria-valuenow={Math.floor(status?.elapsedS ?? 0)}
        aria-valuetext={clock.replace(' / ', ' of ')}
      >
        <span className="scenario-progress-fill" style={{ ['--fraction' as string]: String(fraction) }} />
      </div>
      <span className="scenario-clock" data-testid="scenario-clock">
        {clock}
      </span>
      <div className="scenario-buttons" role="group" aria-label="Player">
        {button(buttons.play, 'scenario:play', play, true)}
        {button(buttons.pause, 'scenario:pause', pause)}
        {button(buttons.step, 'scenario:step', step)}
        {button(buttons.reset, 'scenario:reset', reset)}
      </div>
    </div>
  );
}
