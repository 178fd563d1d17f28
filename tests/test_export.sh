#!/usr/bin/env bash
# The exporter (tools/export_pytorch.py, installed as elman-export) with real
# PyTorch models: a bare state_dict is refused without --batch-first or
# --seq-first and without --nonlinearity (exit 2, one line saying why, no
# file), and with them round-trips through `elman run` to PyTorch's own
# output; a torch.save(model) of a class that cannot be imported gets one
# line saying what to do instead; a file torch cannot read, likewise; --help
# and the module work without torch; the module imports from any directory
# with PYTHONPATH=tools.
#
# Every run of the exporter imports torch, which takes seconds: the cases
# are few, each one a different path.
#
# usage: test_export.sh PYTHON EXPORTER ELMAN
# Exits 77 (skipped) when PYTHON cannot import torch and numpy.
set -u
PY=$1
EXPORT=$(realpath "$2")
ELMAN=$(realpath "$3")
TOOLS=$(dirname "$EXPORT")
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "SKIPPED: $PY cannot import torch and numpy (Debian: apt-get install python3-torch)"
    exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# A training script's model: a class of its own around a batch_first relu RNN,
# saved whole and as a state_dict, plus PyTorch's output for one input.
"$PY" - <<'PYEOF' || { echo "FAIL: could not make the models"; exit 1; }
import numpy as np, torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 5, num_layers=2, nonlinearity="relu", batch_first=True)
        self.head = torch.nn.Linear(5, 1)
torch.manual_seed(7)
net = Net().eval()
torch.save(net, "net.pt")
torch.save(net.state_dict(), "sd.pt")
torch.save(torch.nn.RNN(3, 5), "rnn.pt")
x = torch.randn(2, 6, 3)
with torch.no_grad():
    y, hn = net.rnn(x)
np.save("x.npy", x.numpy()); np.save("y_ref.npy", y.numpy())
open("junk.pt", "w").write("not a pickle\n")
# A class from a module of the user's, importable only with PYTHONPATH.
import os, sys
os.mkdir("models")
open("models/mymodels.py", "w").write(
    "import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.rnn = torch.nn.RNN(3, 5, nonlinearity='relu')\n")
sys.path.insert(0, "models")
import mymodels
torch.save(mymodels.M(), "mine.pt")
PYEOF

# expect_fail NAME STATUS PATTERN ARGS...: exits STATUS, one stderr line
# matching PATTERN, no output file (the output is always out.safetensors).
expect_fail() {
    local name=$1 status=$2 pattern=$3 before=$fails
    shift 3
    rm -f out.safetensors
    "$PY" "$EXPORT" "$@" >/dev/null 2>err
    local rc=$?
    [[ $rc == "$status" ]] || fail "$name: exit status $rc, expected $status ($(cat err))"
    [[ $(wc -l <err) == 1 ]] || fail "$name: $(wc -l <err) lines on stderr: $(cat err)"
    grep -Eq -- "$pattern" err || fail "$name: stderr does not match '$pattern': $(cat err)"
    [[ ! -e out.safetensors ]] || fail "$name: left out.safetensors behind"
    local tmp
    for tmp in .export-*; do
        [[ -e $tmp ]] && fail "$name: left a temporary file $tmp behind"
    done
    [[ $fails == "$before" ]] && echo "ok: $name: $(cat err)"
    return 0
}

expect_fail "state_dict, no layout" 2 \
    "state_dict needs --batch-first or --seq-first.*wrong outputs" \
    sd.pt out.safetensors --nonlinearity relu
expect_fail "state_dict, no nonlinearity" 2 \
    "state_dict needs --nonlinearity.*wrong outputs" sd.pt out.safetensors --batch-first
expect_fail "module of a class not importable" 1 \
    "net.pt: .*class cannot be imported here .no class 'Net'.*state_dict.*--batch-first or --seq-first" \
    net.pt out.safetensors
expect_fail "module of a module not importable" 1 \
    "mine.pt: .*no module named 'mymodels'.*state_dict" mine.pt out.safetensors
expect_fail "not a torch file" 1 "junk.pt: not a file written by torch.save" \
    junk.pt out.safetensors

# info_has FILE KEY VALUE: `elman info` reports KEY: VALUE (from the metadata).
info_has() {
    "$ELMAN" info "$1" | grep -q "^$2: $3 (metadata)" ||
        fail "$1: elman info does not say '$2: $3 (metadata)': $("$ELMAN" info "$1" 2>&1)"
}

# The state_dict with what it cannot say: elman reproduces PyTorch.
if "$PY" "$EXPORT" sd.pt sd.safetensors --batch-first --nonlinearity relu >/dev/null; then
    info_has sd.safetensors batch_first true
    info_has sd.safetensors nonlinearity relu
    if "$ELMAN" run --weights sd.safetensors --input x.npy --output y.npy; then
        "$PY" -c 'import numpy as np, sys
y, r = np.load("y.npy"), np.load("y_ref.npy")
sys.exit(0 if y.shape == r.shape and np.allclose(y, r, rtol=1e-4, atol=2e-5) else 1)' ||
            fail "state_dict export: elman run differs from PyTorch"
        echo "ok: state_dict --batch-first --nonlinearity relu runs as PyTorch does"
    else
        fail "elman run on the exported state_dict failed"
    fi
else
    fail "export of sd.pt with --batch-first --nonlinearity relu failed"
fi
if "$PY" "$EXPORT" sd.pt seq.safetensors --seq-first --nonlinearity tanh >/dev/null; then
    info_has seq.safetensors batch_first false
    info_has seq.safetensors nonlinearity tanh
else
    fail "export of sd.pt with --seq-first --nonlinearity tanh failed"
fi
# The advice works: with the class importable, the module exports.
PYTHONPATH=$W/models "$PY" "$EXPORT" mine.pt mine.safetensors >/dev/null ||
    fail "export of mine.pt with PYTHONPATH=models failed"
info_has mine.safetensors nonlinearity relu
# A module knows its own configuration.
"$PY" "$EXPORT" rnn.pt rnn.safetensors >/dev/null || fail "export of a whole nn.RNN failed"
info_has rnn.safetensors batch_first false

# From Python, from another directory, with PYTHONPATH only: the class that
# the command line could not import is exported by the script that has it.
mkdir elsewhere
(cd elsewhere && PYTHONPATH=$TOOLS "$PY" - <<'PYEOF') || fail "export_pytorch.export() from Python failed"
import torch, export_pytorch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 5, batch_first=True)
assert export_pytorch.export(Net(), "m.safetensors") == "rnn."
PYEOF
[[ -e elsewhere/m.safetensors ]] && info_has elsewhere/m.safetensors batch_first true

# Without torch: --help still works, an export says which Python to use.
"$PY" - "$EXPORT" <<'PYEOF' || fail "without torch: --help or the error is wrong"
import contextlib, io, runpy, sys
sys.modules["torch"] = None            # import torch raises ImportError
mod = runpy.run_path(sys.argv[1])
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        mod["main"](["--help"])
    except SystemExit as e:
        assert e.code == 0, e.code
assert "--batch-first" in out.getvalue()
err = io.StringIO()
with contextlib.redirect_stderr(err):
    assert mod["main"](["x.pt", "y.safetensors"]) == 1
assert "python3-torch" in err.getvalue(), err.getvalue()
PYEOF

if [[ $fails != 0 ]]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all exporter checks passed"
