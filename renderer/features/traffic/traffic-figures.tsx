import type { GeneratorHealth, TrafficErrors, TrafficSecond, TrafficSummary } from '../../../electron/contract.js';
import { useAppStore } from '../../store/use-app-store.js';
import { generatorNotice } from './generator-notice.js';

function rate(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : Number(value.toFixed(1)).toString();
}

function ms(value: number | null): string {
  return value === null ? '–' : value >= 100 ? `${Math.round(value)} ms` : `${Number(value.toFixed(1))} ms`;
}

function errorCount(errors: TrafficErrors): number {
  return errors.timeout + errors.refused + errors.http4xx + errors.http5xx;
}

/** Says whose figures these are (the generator's, not the balancer's), its own cpu and lag, and when it is the limit. */
function GeneratorLine({ health, when }: { health: GeneratorHealth | undefined; when: 'now' | 'in this run' }) {
  const notice = generatorNotice(health, when);
  return (
    <>
      <p
        className="traffic-caption muted"
        data-testid="traffic-generator"
        title="as the load generator saw them; the Metrics charts' requests/s and latency are server-side (the balancer's)"
      >
        client-observed{notice ? ` · ${notice.figures}` : ''}
      </p>
      {notice?.limit && (
        <p className="traffic-limit" role="alert" data-testid="traffic-generator-limit">
          {notice.limit}
        </p>
      )}
    </>
  );
}

/** The generator's last second, from the newest sample. */
function Live({ generator }: { generator: TrafficSecond | null }) {
  const g = generator?.running ? generator : null;
  const figures: [string, string, string?][] = [
    ['target', g ? `${rate(g.targetRps)}/s` : '–'],
    ['offered', g ? `${rate(g.offeredRps)}/s` : '–'],
    ['achieved', g ? `${rate(g.achievedRps)}/s` : '–', g && g.achievedRps < g.offeredRps * 0.95 ? 'warn' : undefined],
    ['p99', g ? ms(g.p99) : '–'],
    ['errors/s', g ? rate(errorCount(g.errorsPerSec)) : '–', g && errorCount(g.errorsPerSec) > 0 ? 'bad' : undefined],
    ['dropped/s', g ? rate(g.droppedPerSec) : '–', g && g.droppedPerSec > 0 ? 'warn' : undefined],
  ];
  return (
    <>
      <GeneratorLine health={g?.health} when="now" />
      <dl className="traffic-figures live" aria-label="Live traffic figures, client-observed" aria-live="off">
        {figures.map(([name, value, tone]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd className={tone} data-testid={`traffic-live-${name.replace('/s', '')}`}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}

/** The figures `traffic:stop` returned. */
function Summary({ summary }: { summary: TrafficSummary }) {
  const e = summary.errors;
  const errors = errorCount(e);
  const figures: [string, string, string?, string?][] = [
    ['requests', summary.requests.toLocaleString('en-US')],
    ['achieved', `${rate(summary.achievedRps)}/s`, summary.achievedRps < summary.offeredRps * 0.95 ? 'warn' : undefined],
    ['offered', `${rate(summary.offeredRps)}/s`],
    ['p50', ms(summary.p50Ms)],
    ['p95', ms(summary.p95Ms)],
    ['p99', ms(summary.p99Ms)],
    ['errors', errors.toLocaleString('en-US'), errors > 0 ? 'bad' : undefined],
    [
      'dropped',
      summary.droppedByClient.toLocaleString('en-US'),
      summary.droppedByClient > 0 ? 'warn' : undefined,
      'dropped by the client: requests the generator could not send on time (it was the bottleneck, not the stack)',
    ],
    [
      'acked writes',
      summary.acknowledgedWrites.toLocaleString('en-US'),
      undefined,
      'acknowledged writes: 201s with their ids, for the lost-write checker',
    ],
  ];
  return (
    <section className="traffic-summary" aria-label="Last run summary">
      <GeneratorLine health={summary.health} when="in this run" />
      <dl className="traffic-figures summary">
        {figures.map(([name, value, tone, title]) => (
          <div key={name} title={title}>
            <dt>{name}</dt>
            <dd className={tone} data-testid={`traffic-summary-${name.replaceAll(' ', '-')}`}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      <p
        className="error-kinds muted"
        aria-label={`errors by kind: ${e.timeout} timeout, ${e.refused} refused, ${e.http4xx} 4xx, ${e.http5xx} 5xx`}
      >
        timeout {e.timeout} · refused {e.refused} · 4xx {e.http4xx} · 5xx {e.http5xx}
      </p>
    </section>
  );
}

/** Live figures while a run goes, the last run's summary after it, a hint before the first. */
export function TrafficFigures() {
  const running = useAppStore((s) => s.trafficRunning);
  const summary = useAppStore((s) => s.lastTrafficSummary);
  // Only this component reads the newest sample, so the rest of the panel stays still each second.
  const generator = useAppStore((s) => (running ? (s.samples.at(-1)?.generator ?? null) : null));
  if (running) return <Live generator={generator} />;
  if (summary) return <Summary summary={summary} />;
  return (
    <p className="traffic-empty muted">
      Live figures (target, offered, achieved, p99, errors, drops) show here while traffic runs; the run's summary after Stop.
    </p>
  );
}
