#!/usr/bin/env bash
# Installs what ScaleLab needs, once: npm packages, and system packages through apt when missing.
# Usage: scripts/setup.sh run|test|bench
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# Whether a Docker engine answers: DOCKER_HOST when set, else the default socket. Asked over the
# engine's own API (GET /_ping) with Node, so it needs no docker client.
docker_engine_answers() {
  node -e '
    const http = require("node:http");
    const host = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    const target = host.startsWith("unix://") ? { socketPath: host.slice(7) }
      : host.startsWith("tcp://") ? { host: new URL(host.replace("tcp:", "http:")).hostname, port: new URL(host.replace("tcp:", "http:")).port || 2375 }
      : null;
    if (!target) process.exit(1);
    const req = http.get({ ...target, path: "/_ping", timeout: 3000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
    req.on("timeout", () => process.exit(1)); req.on("error", () => process.exit(1));
  ' 2>/dev/null
}
# Whether the engine's binary is installed (it may be on root's PATH only).
dockerd_path() { command -v dockerd 2>/dev/null || { [ -x /usr/sbin/dockerd ] && echo /usr/sbin/dockerd; } || { [ -x /usr/bin/dockerd ] && echo /usr/bin/dockerd; }; }
has_dockerd() { [ -n "$(dockerd_path)" ]; }
# Why the Docker tests will not run, for the tests' skip messages and the run's summary line.
docker_skip_file="test-results/docker-skip.txt"
docker_skip() { mkdir -p test-results; printf '%s\n' "$*" >"$docker_skip_file"; say "warning: $*; the Docker tests will be skipped"; }

# Node.js 20.19 or newer.
node_version="$(node -p 'process.versions.node' 2>/dev/null || true)"
[ -n "$node_version" ] || die "Node.js is not installed. Install Node.js 20.19+ (https://nodejs.org or your package manager), then re-run."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $node_version is too old; ScaleLab needs 20.19 or newer."

# npm packages: installed when missing or older than package-lock.json.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)…"
  # Electron's binary comes from GitHub. Without a route there, install without it: ScaleLab then
  # opens its dashboard in the browser instead of a desktop window.
  if [ -z "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ] && ! node -e 'fetch("https://github.com",{method:"HEAD",signal:AbortSignal.timeout(5000)}).then(()=>process.exit(0),()=>process.exit(1))' 2>/dev/null; then
    say "github.com is unreachable: installing without the Electron binary (the dashboard opens in a browser)"
    export ELECTRON_SKIP_BINARY_DOWNLOAD=1
  fi
  npm ci --no-audit --no-fund
fi

# System packages by mode.
need=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/sbin/redis-server ] || need+=(redis-server)
# HAProxy is the stack's balancer (2.4 or newer). Where apt cannot install it, ScaleLab runs its own
# Node balancer instead, so a missing one is not an error.
has_haproxy() { command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || [ -x /usr/local/sbin/haproxy ]; }
if ! has_haproxy; then
  if command -v apt-get >/dev/null 2>&1; then
    need+=(haproxy)
  else
    say "haproxy is not installed: the stack's balancer will be ScaleLab's Node process (install haproxy for the faster one)"
  fi
fi
# The renderer's end-to-end tests and benchmark drive Debian's Chromium (Playwright's own
# browser download needs the internet).
if [ "$mode" = test ] || [ "$mode" = bench ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
fi
# The Docker runtime's tests need an engine, and debootstrap to build their images offline.
if [ "$mode" = test ]; then
  # The engine, not the client: a machine may carry a `docker` CLI and no dockerd.
  docker_engine_answers || has_dockerd || need+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
fi
if [ "$mode" = bench ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${need[*]}. Install them with your package manager (dnf install redis wrk nginx chromium / brew install redis wrk nginx chromium), then re-run."
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing: ${need[*]}, and no sudo to install them. Run: apt-get install -y ${need[*]}"
    sudo="sudo"
  fi
  say "installing system packages: ${need[*]} (apt-get)…"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts the packaged services; ScaleLab runs its own on free ports, so stop those.
  for service in redis-server nginx haproxy; do
    if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
  done
fi

# A Docker engine for the tests: started in the background when none answers. Without one the
# Docker tests say "skipped" and why (test-results/docker-skip.txt), and so does the run's summary.
if [ "$mode" = test ]; then
  rm -f "$docker_skip_file"
  if docker_engine_answers; then
    :
  elif [ -S /var/run/docker.sock ] && [ ! -r /var/run/docker.sock -o ! -w /var/run/docker.sock ]; then
    docker_skip "a Docker engine runs, but $(id -un) may not use /var/run/docker.sock (add the user to the docker group)"
  elif ! has_dockerd; then
    docker_skip "no Docker engine answers and dockerd is not installed (apt-get install docker.io, or start Docker Desktop)"
  else
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    dockerd_bin="$(dockerd_path)"
    say "no Docker engine answers: starting $dockerd_bin in the background (log: /var/log/scalelab-dockerd.log)…"
    $sudo sh -c "nohup '$dockerd_bin' >/var/log/scalelab-dockerd.log 2>&1 & echo \$! >/run/scalelab-dockerd.pid"
    for _ in $(seq 1 30); do
      docker_engine_answers && break
      # Give up early when dockerd has already exited (no privileges for it here, say).
      $sudo kill -0 "$($sudo cat /run/scalelab-dockerd.pid 2>/dev/null || echo 0)" 2>/dev/null || break
      sleep 1
    done
    if docker_engine_answers; then
      say "dockerd is up"
    else
      last="$($sudo tail -n 1 /var/log/scalelab-dockerd.log 2>/dev/null | cut -c1-200 || true)"
      docker_skip "dockerd did not come up (${last:-no output}; see /var/log/scalelab-dockerd.log)"
      $sudo tail -n 5 /var/log/scalelab-dockerd.log >&2 || true
    fi
  fi
fi
say "ready ($mode)"
