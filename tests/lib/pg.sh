# tests/lib/pg.sh: a private PostgreSQL cluster for a test (source netns.sh first).
#
# pg_private DIR PORT USER: initdb a cluster in DIR/data as the postgres
# user (its superuser USER, trust authentication), start it listening on a
# socket in DIR/sock only (no TCP), remembered in PIDS for the cleanup.
# Connect with: psql -h DIR/sock -p PORT -U USER.  Durability is off: the
# cluster lives as long as the test.
pg_private() {
	local dir=$1 port=$2 user=$3 bin i
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$bin/postgres" ] || { fail "PostgreSQL's server is not installed (make deps)"; return 1; }
	# the postgres user must reach DIR through the test's private directory
	chmod o+x "$T"
	mkdir -p "$dir/data" "$dir/sock"
	chown -R postgres: "$dir"
	chmod 700 "$dir/data"
	setpriv --reuid=postgres --regid=postgres --init-groups "$bin/initdb" -D "$dir/data" \
		-A trust -U "$user" -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ fail "initdb: $(tail -n 3 "$dir/initdb.log")"; return 1; }
	setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$dir/data" \
		-k "$dir/sock" -p "$port" -c listen_addresses= -c fsync=off \
		-c synchronous_commit=off -c full_page_writes=off >"$dir/postgres.log" 2>&1 &
	PIDS+=($!)
	for i in $(seq 1 100); do
		"$bin/pg_isready" -q -h "$dir/sock" -p "$port" && return 0
		sleep 0.1
	done
	fail "PostgreSQL did not start: $(tail -n 3 "$dir/postgres.log")"
	return 1
}
