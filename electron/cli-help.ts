/** The CLI's help text: every command, its options and defaults. */
import { wrapIndented } from './cli-usage.js';
import { BUILTIN_IDS } from './control/scenarios/builtin.js';
import { CHAOS_USAGE_LINES } from './cli-chaos.js';

export const HELP = `scalelab — start, watch and break a scalable user-management stack

Usage:
  scalelab up [--runtime local|docker|kubernetes] [--api N] [--workers N] [--name S] [--port P] [--open]
                                 start the stack (2 api replicas, 1 worker by default) and
                                 return once every replica is ready; --open opens the dashboard
                                 (the desktop window where Electron runs, else the browser)
       cpu per replica: [--api-cpu Q] [--worker-cpu Q] a quantity such as 250m, 0.5 or 1,
                   as a pod's cpu request and limit: cgroups (local, Linux), NanoCpus
                   (docker), resources.limits (kubernetes); no limit by default
       data layer: [--read-replica] a PostgreSQL streaming replica serving cache misses and lists
                   [--partitions N] hash-partition the users table by id (0: one table)
                   [--no-events] no outbox, event stream or read model (on by default)
       docker only: [--network bridge|host] [--image-service REF] [--image-postgres REF]
                    [--image-redis REF]  (default: postgres:16-bookworm, redis:7-bookworm,
                    and the service image built from backend/Dockerfile on first use)
       kubernetes only: [--context NAME] (default: the kubeconfig's current context)
                    [--image-* REF] as for docker; the built service image is loaded into
                    Minikube; other clusters need --image-service from a registry they pull
  scalelab status                instances and the latest sample
  scalelab scale api|worker N    set a service's replicas; waits until they are ready
  scalelab logs <instance> [-f] [--lines N]
                                 an instance's output (-f follows it)
  scalelab traffic [--profile constant|ramp|step|spike|sine|replay] [--rps N | A..B]
                 [--duration 60s] [--mix read=90,write=10] [--zipf S | --uniform]
                 [--timeout MS] [--replay FILE]
                                 fire traffic at the stack (open model), one line per second
                                 and a summary at the end (Ctrl-C stops early)
  scalelab autoscale api [--min N] [--max N] [--cpu %] [--rps N] [--p95-ms MS] [--preset demo]
  scalelab autoscale worker [--min N] [--max N] [--queue-per-worker N] [--preset demo]
                                 the emulated Kubernetes HPA (default targets: cpu 50 % of each
                                 replica's cpu limit, or of 500m without one; 20 jobs per
                                 worker); --preset demo syncs every 3 s, scales down after 30 s
  scalelab autoscale off [api|worker] | autoscale status
                                 turn it off; or see its settings and last decisions, explained
${CHAOS_USAGE_LINES.map((line) => `  ${line}`).join('\n')}
                                 inject failures (only the stack's own instances), undo them
  scalelab capacity [--replicas 1,2,4] [--p99 50ms] [--errors 0.1] [--step 10s]
                 [--min-rps N] [--max-rps N] [--mix read=90,write=10] [--zipf S | --uniform]
                 [--save NAME] [--compare NAME]
                                 the highest arrival rate that holds the SLO (default p99 < 50 ms,
                                 errors < 0.1 % over each step) at each replica count, with the
                                 Universal Scalability Law fitted to them; Ctrl-C stops with
                                 what was found so far. --save keeps the result as a baseline,
                                 --compare shows each count's change against one
  scalelab capacity --baselines  the saved baselines
  scalelab reset                 reset the lab: stop traffic, a capacity search and the scenario,
                                 clear chaos and the monkey, autoscalers off, replica counts back
                                 to those the stack was started with
  scalelab guard on [--errors 5] [--for 5s] | guard off | guard status
                                 the safety guard: when errors stay at or above that share of
                                 requests for that long, traffic and chaos stop, and it says why
  scalelab verify                read every acknowledged write back: acknowledged, verified,
                                 lost, duplicated (exit code 1 when one is lost)
  scalelab scenario run <file|builtin> [--report out.html] [--assert EXPR …]
                                 play a scenario (traffic, chaos, scaling on one timeline) and
                                 judge its assertions; exit code 0 only when all held. --report
                                 writes a self-contained HTML report and its samples (.json)
                                 --assert adds assertions: p99_ms<250, error_rate<0.01,
                                 lost_writes==0, api_replicas>=4 eventually to 60
  scalelab scenario list | validate <file|builtin>
${wrapIndented(`built-ins: ${BUILTIN_IDS.join(', ')}`, 33, 94)}
  scalelab down [--purge]        stop the stack (--purge also deletes its data; on Kubernetes
                                 the namespace, else the PVC and secrets stay: --keep-data)
  scalelab serve [--port P] [--open]
                                 run the control plane and dashboard in the foreground
  scalelab help                  this text

Every command takes --json for machine-readable output. The control plane runs in the
background (started on first use); its address and token are in $SCALELAB_HOME/control.json.
`;
