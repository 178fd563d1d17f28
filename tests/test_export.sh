#!/usr/bin/env bash
# The exporter (tools/export_pytorch.py, installed as elman-export) with real
# PyTorch models: a bare state_dict is refused without --batch-first or
# --seq-first and without --nonlinearity (exit 2, one line saying why, no
# file), and with them round-trips through `elman run` to PyTorch's own
# output; a torch.save(model) of a class that cannot be imported gets one
# line saying what to do instead; a file torch cannot read, likewise;
# --prefix picks one RNN of several, --nonlinearity and --seq-first override
# a module's own, --dtype casts (against PyTorch's float64 model); --help and
# the module work without torch, a bad command line exits 2; the module
# imports from any directory with PYTHONPATH=tools.
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
# A module of two RNNs (tanh, the second batch_first), importable the same
# way, and what its second one gives as a seq-first relu RNN in float64:
# the export of --prefix dec. --nonlinearity relu --seq-first --dtype float64.
open("models/two.py", "w").write(
    "import torch\nclass Two(torch.nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.enc = torch.nn.RNN(3, 4)\n"
    "        self.dec = torch.nn.RNN(4, 5, batch_first=True)\n")
import two
torch.manual_seed(11)
m = two.Two().eval()
torch.save(m, "two.pt")
relu = torch.nn.RNN(4, 5, nonlinearity="relu").double().eval()
relu.load_state_dict(m.dec.state_dict())
x2 = torch.randn(6, 2, 4, dtype=torch.float64)
with torch.no_grad():
    y2, _ = relu(x2)
np.save("x2.npy", x2.numpy()); np.save("y2_ref.npy", y2.numpy())
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

# --prefix picks one of several RNNs (without it, refused); --nonlinearity
# and --seq-first override the module's own; --dtype casts the tensors.
PYTHONPATH=$W/models expect_fail "module of two RNNs, no --prefix" 1 \
    "two.pt: expected exactly one nn.RNN in the module, found: enc, dec" two.pt out.safetensors
if PYTHONPATH=$W/models "$PY" "$EXPORT" two.pt two.safetensors --prefix dec. --nonlinearity relu \
    --seq-first --dtype float64 >/dev/null; then
    "$ELMAN" info two.safetensors --prefix dec. >info.txt || fail "elman info --prefix dec. failed"
    for want in "nonlinearity: relu (metadata)" "batch_first: false (metadata)" "dtype: F64" \
        "input_size: 4" "hidden_size: 5"; do
        grep -qxF "$want" info.txt || fail "two.pt --prefix dec.: elman info lacks '$want': $(cat info.txt)"
    done
    if "$ELMAN" run --weights two.safetensors --prefix dec. --dtype float64 --input x2.npy \
        --output y2.npy; then
        "$PY" -c 'import numpy as np, sys
y, r = np.load("y2.npy"), np.load("y2_ref.npy")
sys.exit(0 if y.dtype == r.dtype and y.shape == r.shape and np.allclose(y, r, rtol=0, atol=1e-10) else 1)' ||
            fail "two.pt --prefix dec.: elman run differs from PyTorch's float64 relu RNN"
        echo "ok: --prefix dec. --nonlinearity relu --seq-first --dtype float64 runs as PyTorch does"
    else
        fail "elman run on two.safetensors --prefix dec. failed"
    fi
else
    fail "export of two.pt with --prefix dec. failed"
fi
"$PY" "$EXPORT" rnn.pt bf16.safetensors --dtype bfloat16 >/dev/null || fail "export --dtype bfloat16 failed"
"$ELMAN" info bf16.safetensors | grep -qxF "dtype: BF16" || fail "--dtype bfloat16: the tensors are not BF16"

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
# a bad command line: exit status 2
for argv in (["--dtype", "int8", "a.pt", "b.safetensors"], ["--batch-first", "--seq-first",
             "a.pt", "b.safetensors"], ["a.pt"], ["--frobnicate", "a.pt", "b.safetensors"]):
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            mod["main"](argv)
            raise AssertionError("accepted %r" % argv)
        except SystemExit as e:
            assert e.code == 2, (argv, e.code)
PYEOF

if [[ $fails != 0 ]]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all exporter checks passed"
