#!/bin/bash
# make bench: build, install what the comparison needs, run bench/bench.py.
set -e
cd "$(dirname "$0")/.."
make -s all tools
if ! command -v ulogd >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ulogd2 >/dev/null
fi
exec python3 bench/bench.py
