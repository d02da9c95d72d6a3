# tests/lib/demo.sh: what make demo and make demo-fleet share (source
# netns.sh first): headings, a failed part named at once and remembered,
# and the verdict at the end.  DEMO: the demo's name ("make demo").
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
BROKEN=()
broken() { # broken PART WHY: remember a failed part and say so at once
	BROKEN+=("$1: $2")
	printf '%s!! demo part failed: %s: %s%s\n' "$B" "$1" "$2" "$N"
}
# The verdict: every failed part named, exit 1; or that every part worked.
demo_end() {
	echo
	if [ ${#BROKEN[@]} -gt 0 ]; then
		printf '%s%s: FAILED (%d):%s\n' "$B" "$DEMO" "${#BROKEN[@]}" "$N"
		printf '  %s\n' "${BROKEN[@]}"
		exit 1
	fi
	echo "$DEMO: every part worked."
}
