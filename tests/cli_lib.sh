# Sourced by the elman tool's test scripts (test_cli*.sh), whose arguments
# are ELMAN NPY_COMPARE DATA_DIR [SANITIZED]: sets ELMAN, CMP, D (absolute),
# SANITIZED (1 under the sanitizers), a scratch directory W removed at exit
# (cli_cleanup, which a script may redefine), and the counters that fail()
# and finish() use.
set -u
ELMAN=$(realpath "$1")
CMP=$(realpath "$2")
D=$(cd "$3" && pwd)
SANITIZED=${4:-0}
W=$(mktemp -d)
cli_cleanup() {
    rm -rf "$W"
}
trap cli_cleanup EXIT
runs=0
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# finish NAME: the summary line, and the script's status.
finish() {
    echo "$1: $runs checks, $fails failed"
    [[ $fails -eq 0 ]]
}
