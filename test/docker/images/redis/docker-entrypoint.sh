#!/usr/bin/env bash
# The official redis image's entrypoint contract, for images built offline: arguments pass through
# to redis-server (a first argument starting with "-" or ending in ".conf" means redis-server);
# protected mode is off unless the arguments or the config file set it (so clients outside the
# container may connect); redis-server runs as the redis user as the container's main process.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
  protected=1
  rest=("${@:2}")
  conf=()
  if [ "${#rest[@]}" -gt 0 ] && [ -f "${rest[0]}" ]; then
    conf=("${rest[0]}")
    rest=("${rest[@]:1}")
    if grep -q '^protected-mode' "${conf[0]}"; then protected=; fi
  fi
  for arg in "${rest[@]}"; do
    if [ "$arg" = --protected-mode ]; then protected=; fi
  done
  # The default goes first, so that later arguments would win anyway.
  if [ -n "$protected" ]; then
    set -- redis-server "${conf[@]}" --protected-mode no "${rest[@]}"
  fi
  um="$(umask)"
  if [ "$um" = 0022 ]; then umask 0077; fi
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi

exec "$@"
