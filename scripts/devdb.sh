#!/usr/bin/env bash
# devdb.sh — print a DATABASE_URL for local development and make sure the
# database exists. stdout carries only the URL; all diagnostics go to stderr.
#
# Usage:
#   scripts/devdb.sh [dbname]   # default dbname: forumjst
#   scripts/devdb.sh --stop     # stop the repo-local cluster (.data/postgres)
#
# Order:
#   1. $DATABASE_URL set        -> printed unchanged.
#   2. PostgreSQL answers on 127.0.0.1:5432 as user postgres (no password)
#                               -> dbname created there if missing;
#                                  prints postgres://postgres@127.0.0.1:5432/<dbname>?sslmode=disable
#   3. otherwise a repo-local cluster in .data/postgres (created with
#      initdb -A trust on first use, started with pg_ctl, reused later)
#                               -> prints postgres://postgres@127.0.0.1:54329/<dbname>?sslmode=disable
#
# Environment:
#   DATABASE_URL        if set, printed unchanged (nothing else happens)
#   DEVDB_SKIP_LOCAL=1  treat 127.0.0.1:5432 as absent (always use .data/postgres)
#   DEVDB_PORT          port of the .data/postgres cluster (default 54329)
#
# Binaries (pg_isready, psql, initdb, pg_ctl) are looked up on PATH, then in
# the newest /usr/lib/postgresql/*/bin. When running as root, initdb/pg_ctl run
# as the unprivileged "postgres" OS user (created with useradd if missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DATA_ROOT="$ROOT/.data/postgres"
PGDATA_DIR="$DATA_ROOT/data"
PGLOG="$DATA_ROOT/log"
PORT="${DEVDB_PORT:-54329}"
NOT_FOUND='devdb: PostgreSQL not found — install it (Debian: apt-get install -y postgresql) or set DATABASE_URL'

say() { printf 'devdb: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# pg_lib_dirs: /usr/lib/postgresql/*/bin, newest version first.
pg_lib_dirs() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[[ -d $d ]] && printf '%s\n' "$d"
	done | sort -t/ -k5,5 -V -r
}

# find_bin NAME [PREFERRED_DIR]: path of NAME (PREFERRED_DIR, PATH, /usr/lib/postgresql/*/bin).
find_bin() {
	local name=$1 pref=${2:-} d
	if [[ -n $pref && -x $pref/$name ]]; then
		printf '%s\n' "$pref/$name"
		return 0
	fi
	if command -v "$name" >/dev/null 2>&1; then
		command -v "$name"
		return 0
	fi
	while IFS= read -r d; do
		if [[ -x $d/$name ]]; then
			printf '%s\n' "$d/$name"
			return 0
		fi
	done < <(pg_lib_dirs)
	return 1
}

# server_bin_dir: a directory with both initdb and pg_ctl. If the cluster
# already exists, prefer the binaries of its major version.
server_bin_dir() {
	local d p ver=""
	[[ -f $PGDATA_DIR/PG_VERSION ]] && ver=$(<"$PGDATA_DIR/PG_VERSION")
	if [[ -n $ver && -x /usr/lib/postgresql/$ver/bin/pg_ctl ]]; then
		printf '%s\n' "/usr/lib/postgresql/$ver/bin"
		return 0
	fi
	if p=$(command -v initdb 2>/dev/null); then
		for d in "$(dirname "$p")" "$(dirname "$(readlink -f "$p")")"; do
			if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
				printf '%s\n' "$d"
				return 0
			fi
		done
	fi
	while IFS= read -r d; do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done < <(pg_lib_dirs)
	return 1
}

valid_dbname() { [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]]; }

# psql_at PORT DB ARGS...: psql as postgres over TCP, never prompting.
psql_at() {
	local port=$1 db=$2
	shift 2
	PGCONNECT_TIMEOUT=3 "$PSQL" -X -q -w -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

# usable PORT: PostgreSQL on 127.0.0.1:PORT accepts user postgres without a password.
usable() {
	local port=$1 isready
	if isready=$(find_bin pg_isready); then
		"$isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1 || return 1
	fi
	[[ -n $PSQL ]] || return 1
	[[ $(psql_at "$port" postgres -tAc 'select 1' 2>/dev/null) == 1 ]]
}

# ensure_db PORT NAME: create database NAME if missing.
ensure_db() {
	local port=$1 name=$2 exists
	exists=$(psql_at "$port" postgres -tAc "select 1 from pg_database where datname = '$name'")
	[[ $exists == 1 ]] && return 0
	say "creating database $name on 127.0.0.1:$port"
	if ! psql_at "$port" postgres -c "create database \"$name\"" >&2; then
		# A concurrent run may have created it meanwhile.
		exists=$(psql_at "$port" postgres -tAc "select 1 from pg_database where datname = '$name'")
		[[ $exists == 1 ]] || die "could not create database $name on 127.0.0.1:$port"
	fi
}

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# as_pg CMD ARGS...: run as the postgres OS user when root, in DATA_ROOT.
as_pg() {
	if ((IS_ROOT)); then
		if command -v runuser >/dev/null 2>&1; then
			(cd "$DATA_ROOT" && runuser -u postgres -- "$@")
		else
			(cd "$DATA_ROOT" && su -s /bin/bash postgres -c "$(printf '%q ' "$@")")
		fi
	else
		(cd "$DATA_ROOT" && "$@")
	fi
}

ensure_pg_user() {
	((IS_ROOT)) || return 0
	id -u postgres >/dev/null 2>&1 && return 0
	say "creating system user postgres"
	useradd --system --user-group --no-create-home --shell /bin/bash postgres >&2 ||
		die "could not create the postgres OS user (initdb refuses to run as root)"
}

cluster_running() {
	[[ -f $PGDATA_DIR/PG_VERSION ]] || return 1
	as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

stop_cluster() {
	if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
		say "no cluster in $DATA_ROOT"
		return 0
	fi
	BIN=$(server_bin_dir) || { printf '%s\n' "$NOT_FOUND" >&2; exit 1; }
	if cluster_running; then
		as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >&2
		say "stopped cluster in $DATA_ROOT"
	else
		say "cluster in $DATA_ROOT is not running"
	fi
}

init_cluster() {
	mkdir -p "$DATA_ROOT"
	if [[ -e $PGDATA_DIR ]] && [[ -n $(ls -A "$PGDATA_DIR" 2>/dev/null) ]]; then
		die "$PGDATA_DIR exists but holds no cluster; remove it and retry"
	fi
	ensure_pg_user
	if ((IS_ROOT)); then
		chown -R postgres: "$DATA_ROOT"
		as_pg test -w "$DATA_ROOT" ||
			die "user postgres cannot write $DATA_ROOT (check permissions of its parent directories)"
	fi
	say "initialising a PostgreSQL cluster in $DATA_ROOT"
	local log="$DATA_ROOT/initdb.log"
	if ! as_pg "$BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$log" 2>&1; then
		# Systems without the C.UTF-8 locale: fall back to the C locale.
		rm -rf "$PGDATA_DIR"
		if ! as_pg "$BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres -E UTF8 --no-locale >>"$log" 2>&1; then
			cat "$log" >&2
			die "initdb failed"
		fi
	fi
}

start_cluster() {
	local sockdir=$DATA_ROOT opts
	# Unix socket paths are limited to ~107 bytes; use TCP only when too long.
	if ((${#sockdir} + 20 > 100)); then
		opts="-p $PORT -c unix_socket_directories= -c listen_addresses=127.0.0.1"
	else
		opts="-p $PORT -k '$sockdir' -c listen_addresses=127.0.0.1"
	fi
	if usable "$PORT"; then
		die "another PostgreSQL already listens on 127.0.0.1:$PORT (not $DATA_ROOT); stop it or set DEVDB_PORT"
	fi
	say "starting cluster in $DATA_ROOT on 127.0.0.1:$PORT"
	if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -o "$opts" -w -t 60 start >/dev/null 2>&1; then
		tail -n 20 "$PGLOG" >&2 || true
		die "pg_ctl start failed (log: $PGLOG; if the cluster is from another PostgreSQL version, remove $DATA_ROOT)"
	fi
}

main() {
	if [[ ${1:-} == --stop ]]; then
		stop_cluster
		return 0
	fi
	if [[ ${1:-} == -h || ${1:-} == --help ]]; then
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
		return 0
	fi
	local db=${1:-forumjst}
	if [[ -n ${DATABASE_URL:-} ]]; then
		printf '%s\n' "$DATABASE_URL"
		return 0
	fi
	valid_dbname "$db" || die "invalid database name: $db (letters, digits, _)"

	PSQL=$(find_bin psql) || PSQL=""

	if [[ ${DEVDB_SKIP_LOCAL:-} != 1 ]] && usable 5432; then
		ensure_db 5432 "$db"
		printf 'postgres://postgres@127.0.0.1:5432/%s?sslmode=disable\n' "$db"
		return 0
	fi

	BIN=$(server_bin_dir) || { printf '%s\n' "$NOT_FOUND" >&2; exit 1; }
	[[ -n $PSQL ]] || PSQL=$(find_bin psql "$BIN") || { printf '%s\n' "$NOT_FOUND" >&2; exit 1; }

	[[ -f $PGDATA_DIR/PG_VERSION ]] || init_cluster
	if ! cluster_running; then
		start_cluster
	fi
	usable "$PORT" || die "cluster in $DATA_ROOT runs but does not answer on 127.0.0.1:$PORT (log: $PGLOG)"
	ensure_db "$PORT" "$db"
	printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable\n' "$PORT" "$db"
}

main "$@"
