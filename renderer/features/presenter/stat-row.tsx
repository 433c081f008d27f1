import { useShallow } from 'zustand/react/shallow';
import { useAppStore } from '../../store/use-app-store.js';
import { statRow } from './stat-data.js';

/** The figures a room reads first, one row under the stack bar; the same numbers as the charts below. */
export function StatRow() {
  const { sample, spec, autoscaler } = useAppStore(
    useShallow((s) => ({ sample: s.samples.at(-1) ?? null, spec: s.status?.spec ?? null, autoscaler: s.autoscaler })),
  );
  const stats = statRow(sample, spec, autoscaler);
  return (
    <section className="stat-row" aria-label="Live figures">
      {stats.map((stat) => (
        <div key={stat.key} className={`stat stat-${stat.key} tone-${stat.tone}`} data-testid={`stat-${stat.key}`}>
          <div className="stat-label">{stat.label}</div>
          <div className="stat-values">
            {stat.values.map((v, i) => (
              <span key={i} className="stat-value-box">
                {v.caption && <span className="stat-caption">{v.caption}</span>}
                <span className="stat-value">{v.text}</span>
              </span>
            ))}
            {stat.unit && <span className="stat-unit">{stat.unit}</span>}
          </div>
          <div className="stat-detail" title={stat.detail}>
            {stat.detail}
          </div>
        </div>
      ))}
    </section>
  );
}
