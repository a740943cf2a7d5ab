# Sourced by run.sh and test.sh: PostgreSQL and Redis from DATABASE_URL / REDIS_URL when
# given, otherwise private instances under .run/ on their own ports, started if stopped.
# Exports DATABASE_URL and REDIS_URL.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run"
mkdir -p "$RUN"

if [ -z "${DATABASE_URL:-}" ]; then
  PG_PORT="${PM_PG_PORT:-54329}"
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$PGBIN" ] || PGBIN="$(dirname "$(command -v initdb || command -v pg_ctl || echo /usr/bin/x)")"
  if [ ! -x "$PGBIN/initdb" ]; then
    echo "PostgreSQL server binaries not found; install PostgreSQL or set DATABASE_URL." >&2
    return 1
  fi
  AS=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root: run the private cluster as an unprivileged user.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    AS=(runuser -u postgres --)
  fi
  PGDATA="$RUN/pgdata"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA" "$RUN/pgsock"
    [ ${#AS[@]} -eq 0 ] || chown postgres "$PGDATA" "$RUN/pgsock"
    "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >"$RUN/initdb.log" 2>&1
  fi
  if ! "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q; then
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -o \
      "-p $PG_PORT -k $RUN/pgsock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  PSQL=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qtAX -v ON_ERROR_STOP=1)
  # The owning login: no superuser, no BYPASSRLS; may create the test database and the app role.
  [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='provisionmap'")" = 1 ] ||
    "${PSQL[@]}" -c "CREATE ROLE provisionmap LOGIN CREATEDB CREATEROLE NOSUPERUSER NOBYPASSRLS"
  [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname='provisionmap'")" = 1 ] ||
    "${PSQL[@]}" -c "CREATE DATABASE provisionmap OWNER provisionmap"
  export DATABASE_URL="postgres://provisionmap@127.0.0.1:$PG_PORT/provisionmap"
fi

if [ -z "${REDIS_URL:-}" ]; then
  REDIS_PORT="${PM_REDIS_PORT:-63799}"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    if ! command -v redis-server >/dev/null; then
      echo "redis-server not found; install Redis or set REDIS_URL." >&2
      return 1
    fi
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$RUN" --save "" \
      --appendonly no --maxmemory-policy noeviction --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
fi
