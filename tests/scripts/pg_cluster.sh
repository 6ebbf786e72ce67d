# Sourced by scripts that need a throwaway PostgreSQL: initdb into a temp dir, Unix socket only (no TCP).
# pg_cluster_start [SHARED_BUFFERS] sets pg_work (the dir, also the socket dir) and pg_dsn (libpq string for
# database "klartext") and installs an EXIT trap that stops the server and removes the dir. Returns 77
# (the ctest skip code) when the server binaries are not installed, 1 when the server does not start.
pg_cluster_start() {
  local buffers=${1:-16MB}
  pg_bin=${KLARTEXT_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
  if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" || ! -x "$pg_bin/postgres" ]]; then
    echo "PostgreSQL server binaries not installed (Debian package postgresql)" >&2
    return 77
  fi
  # Short path: the socket path must stay under 107 bytes. A roomy tmpfs spares the disk.
  local base=/tmp
  if [[ -w /dev/shm ]] && (($(df --output=avail -k /dev/shm 2>/dev/null | tail -n 1) > 1048576)); then
    base=/dev/shm
  fi
  pg_work=$(mktemp -d "$base/klartext-pg-XXXXXX")
  pg_as_server=()
  if [[ $(id -u) -eq 0 ]]; then
    # PostgreSQL refuses to run as root: the server runs as an unprivileged system user.
    local user=postgres
    getent passwd postgres >/dev/null || user=nobody
    chown "$user" "$pg_work"
    pg_as_server=(runuser -u "$user" --)
  fi
  trap pg_cluster_stop EXIT
  "${pg_as_server[@]}" "$pg_bin/initdb" -D "$pg_work/data" -U klartext -A trust -E UTF8 --locale=C -N \
    --wal-segsize=1 >"$pg_work/initdb.log" 2>&1 || {
    cat "$pg_work/initdb.log" >&2
    return 1
  }
  "${pg_as_server[@]}" "$pg_bin/pg_ctl" -D "$pg_work/data" -l "$pg_work/data/server.log" -w -t 60 \
    -o "-k $pg_work -c listen_addresses='' -F -c shared_buffers=$buffers -c max_connections=20" start >/dev/null || {
    cat "$pg_work/data/server.log" >&2
    return 1
  }
  "$pg_bin/createdb" -h "$pg_work" -U klartext klartext || return 1
  pg_dsn="host=$pg_work user=klartext dbname=klartext"
}

pg_cluster_stop() {
  if [[ -n "${pg_work:-}" && -f "$pg_work/data/postmaster.pid" ]]; then
    "${pg_as_server[@]}" "$pg_bin/pg_ctl" -D "$pg_work/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [[ -z "${pg_work:-}" ]] || rm -rf "$pg_work"
}
