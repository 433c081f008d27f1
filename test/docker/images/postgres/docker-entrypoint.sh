#!/usr/bin/env bash
# The official postgres image's entrypoint contract, for images built offline:
# - starts as root, owns $PGDATA to postgres, then runs as postgres;
# - on an empty $PGDATA: initdb with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD
#   (required unless POSTGRES_HOST_AUTH_METHOD=trust), password auth (scram-sha-256) for every
#   host connection, listen_addresses='*', then POSTGRES_DB (default: POSTGRES_USER) is created and
#   /docker-entrypoint-initdb.d/*.sql|*.sh are run;
# - finally execs the command (`postgres -c port=5433 …`; a first argument starting with "-"
#   means postgres), so postgres is the container's main process and gets its signals.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'error: the database is uninitialized and POSTGRES_PASSWORD is not set.' >&2
    echo '       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one).' >&2
    exit 1
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb_args=(--username="$user" --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-})
  # The password goes through a pipe, never a file or the command line.
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    initdb "${initdb_args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") >/dev/null
  else
    initdb "${initdb_args[@]}" >/dev/null
  fi
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A private server (Unix socket only) for the first-run steps.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc --host /var/run/postgresql)
  if [ "$db" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$db" <<<'CREATE DATABASE :"db";' >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; bash "$f" ;;
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$db" -f "$f" >/dev/null ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
