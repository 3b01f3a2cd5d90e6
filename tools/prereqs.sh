#!/usr/bin/env bash
# What `make demo` and `make test` need beyond the repository, checked before they start.
#
#   tools/prereqs.sh python PY   Python 3.11 (with venv/ensurepip): all `make demo` needs
#   tools/prereqs.sh test VENV   + chromium, chromedriver, wrk, curl (apt-get installs them when
#                                run as root), Node.js 20 + npm, PostgreSQL at 127.0.0.1:5432
#                                (started when it is installed but stopped)
#
# Every missing thing is one line saying what to do; the exit code is 1 if anything is missing.
set -uo pipefail

missing=0
say() {
	printf 'missing: %s\n' "$1" >&2
	missing=1
}

check_python() {
	local py=$1
	if ! command -v "$py" >/dev/null 2>&1; then
		say "Python 3.11 ('$py' is not on PATH): install python3.11 (Debian: apt-get install python3 python3-venv), or run make PY=/path/to/python3.11"
		return
	fi
	if ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' 2>/dev/null; then
		say "Python 3.11 ('$py' is $("$py" -c 'import platform; print(platform.python_version())' 2>/dev/null)): install python3.11, or run make PY=/path/to/python3.11"
		return
	fi
	if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
		say "Python's venv module ('$py -m venv' cannot install pip): Debian: apt-get install python3-venv"
	fi
}

# Debian packages the tests drive for real: Chromium and ChromeDriver (docs, Swagger UI),
# wrk (the benchmark's smoke test), curl (the README's and serve's curl commands).
check_debian_tools() {
	local absent=() packages=()
	command -v chromium >/dev/null 2>&1 || { absent+=(chromium); packages+=(chromium); }
	command -v chromedriver >/dev/null 2>&1 || { absent+=(chromedriver); packages+=(chromium-driver); }
	command -v wrk >/dev/null 2>&1 || { absent+=(wrk); packages+=(wrk); }
	command -v curl >/dev/null 2>&1 || { absent+=(curl); packages+=(curl); }
	[ ${#absent[@]} -eq 0 ] && return
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing ${packages[*]} with apt-get" >&2
		if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null; then
			return
		fi
		say "${absent[*]}: 'apt-get install ${packages[*]}' failed (see above)"
	elif command -v apt-get >/dev/null 2>&1; then
		say "${absent[*]}: run 'sudo apt-get install ${packages[*]}' (make test installs them itself only as root)"
	else
		say "${absent[*]}: install them (Debian packages: ${packages[*]})"
	fi
}

check_node() {
	if ! command -v node >/dev/null 2>&1; then
		say "Node.js 20 (no 'node' on PATH; it runs tests/servers/zoo.mjs): install Node.js 20 and npm (https://nodejs.org)"
	elif ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
		say "Node.js 20 ('node' is $(node --version)): install Node.js 20 or newer"
	fi
	if ! command -v npm >/dev/null 2>&1; then
		say "npm (it installs the spec linters in tools/lint): install npm with Node.js 20"
	fi
}

# The tests' database: $BILLING_TEST_PG, else postgres@127.0.0.1:5432/test with trust auth.
check_postgres() {
	local venv=$1 url=${BILLING_TEST_PG:-postgresql://postgres@127.0.0.1:5432/test}
	local probe="import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    sys.exit(1)"
	local why
	why=$("$venv/bin/python" -c "$probe" "$url" 2>&1) && return
	if [ -z "${BILLING_TEST_PG:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && [ -d /etc/postgresql ]; then
		echo "starting the local PostgreSQL" >&2
		for version in /etc/postgresql/*; do
			pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start >/dev/null 2>&1
		done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			why=$("$venv/bin/python" -c "$probe" "$url" 2>&1) && return
			sleep 1
		done
	fi
	if [ -z "${BILLING_TEST_PG:-}" ] && ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
		say "PostgreSQL (not installed; $why): install it (Debian: apt-get install postgresql), running on 127.0.0.1:5432 with user postgres (trust) and a database 'test', or set BILLING_TEST_PG to a libpq URL"
	else
		say "PostgreSQL at $(printf '%s' "$url" | sed -E 's#//[^@/]*@#//#') does not answer ($why): start it (Debian, as root: pg_ctlcluster <version> main start), or set BILLING_TEST_PG to a libpq URL"
	fi
}

case "${1:-}" in
python)
	check_python "${2:-python3}"
	;;
test)
	check_debian_tools
	check_node
	check_postgres "${2:-.venv}"
	;;
*)
	echo "usage: tools/prereqs.sh python PY | test VENV" >&2
	exit 2
	;;
esac
if [ "$missing" -ne 0 ]; then
	echo "make stopped before the run: install what is listed above, then run it again (docs/guide/how-it-is-tested.md: Prerequisites)." >&2
fi
exit "$missing"
