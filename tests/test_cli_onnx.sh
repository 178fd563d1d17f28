#!/usr/bin/env bash
# The elman tool on ONNX files (tests/data/onnx, written by gen_onnx_data.py):
# every case of cases.txt through `elman run` against its expected Y and
# Y_h (PyTorch's outputs, or the ONNX definition computed in float64), the
# cases of overrides.txt with options overriding the file's attributes,
# `elman info`'s whole output (the settings, the inputs, every node with its
# role), and bad files refused with one line and no output left behind.
# When elman_io was built without the ONNX loader (ONNX_BUILT 0), that run
# and info refuse an ONNX file with one line saying so, writing nothing.
#
# usage: test_cli_onnx.sh ELMAN NPY_COMPARE DATA_DIR ONNX_BUILT
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
if [[ ${4:-0} != 1 ]]; then
    want="$D/torch_1l.onnx: this elman_io was built without ONNX support"
    runs=$((runs + 1))
    "$ELMAN" run --weights "$D/torch_1l.onnx" --input "$D/torch_1l.x.npy" --output "$W/y.npy" \
        --hn "$W/hn.npy" 2>"$W/err"
    rc=$?
    [[ $rc == 1 && $(wc -l <"$W/err") == 1 ]] || fail "run without ONNX: exit $rc, $(cat "$W/err")"
    grep -qF "elman: $want" "$W/err" || fail "run without ONNX: $(cat "$W/err")"
    [[ -e $W/y.npy || -e $W/hn.npy ]] && fail "run without ONNX: an output was written"
    runs=$((runs + 1))
    "$ELMAN" info "$D/torch_1l.onnx" >"$W/out" 2>"$W/err"
    rc=$?
    [[ $rc == 1 && $(wc -l <"$W/err") == 1 ]] || fail "info without ONNX: exit $rc, $(cat "$W/err")"
    grep -qF "elman: $want" "$W/err" || fail "info without ONNX: $(cat "$W/err")"
    [[ -s $W/out ]] && fail "info without ONNX: printed $(cat "$W/out")"
    finish test_cli_onnx
    exit
fi

# ---- every case of the loader's suite, through the tool ----
while read -r name h0 len y _; do
    [[ -z $name || $name == \#* ]] && continue
    runs=$((runs + 1))
    args=(run --weights "$D/$name.onnx" --input "$D/$name.x.npy"
          --output "$W/y.npy" --hn "$W/hn.npy")
    [[ $h0 == 1 ]] && args+=(--h0 "$D/$name.h0.npy")
    [[ $len == 1 ]] && args+=(--lengths "$D/$name.lengths.npy")
    rm -f "$W/y.npy" "$W/hn.npy"
    if ! "$ELMAN" "${args[@]}" 2>"$W/err"; then
        fail "$name: elman run failed: $(cat "$W/err")"
        continue
    fi
    [[ $y == 1 ]] && { "$CMP" "$W/y.npy" "$D/$name.y.npy" || fail "$name: Y differs"; }
    "$CMP" "$W/hn.npy" "$D/$name.hn.npy" || fail "$name: Y_h differs"
done <"$D/cases.txt"

# ---- options override the file's attributes ----
# overrides.txt: NAME TAG OPTIONS...; the expected outputs are the ONNX
# definition computed with the attributes the options give.
[[ -s $D/overrides.txt ]] || fail "no overrides.txt"
overrides=0
while read -r name tag rest; do
    [[ -z $name ]] && continue
    runs=$((runs + 1))
    overrides=$((overrides + 1))
    read -ra opts <<<"$rest"
    args=(run --weights "$D/$name.onnx" --input "$D/$name.x.npy"
          --output "$W/y.npy" --hn "$W/hn.npy" "${opts[@]}")
    [[ -e $D/$name.h0.npy ]] && args+=(--h0 "$D/$name.h0.npy")
    [[ -e $D/$name.lengths.npy ]] && args+=(--lengths "$D/$name.lengths.npy")
    rm -f "$W/y.npy" "$W/hn.npy"
    if ! "$ELMAN" "${args[@]}" 2>"$W/err"; then
        fail "$name $rest: elman run failed: $(cat "$W/err")"
        continue
    fi
    "$CMP" "$W/y.npy" "$D/$name.$tag.y.npy" || fail "$name $rest: Y differs"
    "$CMP" "$W/hn.npy" "$D/$name.$tag.hn.npy" || fail "$name $rest: Y_h differs"
done <"$D/overrides.txt"
# every NAME.TAG.hn.npy has its line: a lost line would go untested
tagged=$(find "$D" -maxdepth 1 -name '*.*.hn.npy' | wc -l)
[[ $overrides -ge 7 && $overrides -eq $tagged ]] ||
    fail "overrides.txt: $overrides cases, $tagged NAME.TAG.hn.npy files (at least 7)"

# ---- elman info: the format, the settings, the inputs, every node ----
# info_is FILE [OPTION...] <<EXPECTED: the whole output, run from $D.
info_is() {
    runs=$((runs + 1))
    (cd "$D" && "$ELMAN" info "$@") >"$W/info" 2>"$W/err" || fail "info $*: $(cat "$W/err")"
    diff -u - "$W/info" >"$W/diff" || fail "info $*: the output differs:
$(cat "$W/diff")"
}
# Two layers of torch.onnx.export: the zero state it builds (state), the
# Squeeze between the layers (layout), the outputs' reshaping and the
# Linear head (ignored).
info_is torch_head.onnx <<'EOF'
model: torch_head.onnx
format: onnx
input_size: 3
hidden_size: 4
num_layers: 2
direction: forward (file)
bias: true
activation: Tanh (file)
clip: 0
batch_first: false (file)
state_batch_first: false (file: layout 0)
parameters: 76
inputs: X x, initial_h (none), sequence_lens (none)
node: Shape /rnn/Shape: state
node: Constant /rnn/Constant: state
node: Gather /rnn/Gather: state
node: Constant /rnn/Constant_1: state
node: Constant Constant_4: state
node: Unsqueeze /rnn/Unsqueeze: state
node: Constant /rnn/Constant_2: state
node: Concat /rnn/Concat: state
node: ConstantOfShape /rnn/ConstantOfShape: state
node: Constant /rnn/Constant_3: state
node: Constant /rnn/Constant_4: state
node: Constant /rnn/Constant_5: state
node: Slice /rnn/Slice: state
node: RNN /rnn/RNN: layer 0
node: Constant /rnn/Constant_6: layout
node: Squeeze /rnn/Squeeze: layout
node: Constant /rnn/Constant_7: state
node: Constant /rnn/Constant_8: state
node: Constant /rnn/Constant_9: state
node: Slice /rnn/Slice_1: state
node: RNN /rnn/RNN_1: layer 1
node: Constant /rnn/Constant_10: ignored
node: Squeeze /rnn/Squeeze_1: ignored
node: Concat /rnn/Concat_1: ignored
node: MatMul /fc/MatMul: ignored
node: Add /fc/Add: ignored
ignored: 5 nodes
EOF
# h0 and the lengths from graph inputs, the lengths through a Cast (which
# has no name); a flag shown as one.
info_is node_for_len.onnx --nonlinearity relu <<'EOF'
model: node_for_len.onnx
format: onnx
input_size: 3
hidden_size: 4
num_layers: 1
direction: forward (file)
bias: true
activation: Relu (flag)
clip: 0
batch_first: false (file)
state_batch_first: false (file: layout 0)
parameters: 36
inputs: X X, initial_h h0, sequence_lens lengths
node: Cast (unnamed): lengths
node: RNN rnn: layer 0
ignored: 0 nodes
EOF
# Weights in Constant nodes.
info_is node_const_weights.onnx <<'EOF'
model: node_const_weights.onnx
format: onnx
input_size: 3
hidden_size: 4
num_layers: 1
direction: forward (file)
bias: true
activation: Tanh (file)
clip: 0
batch_first: false (file)
state_batch_first: false (file: layout 0)
parameters: 36
inputs: X X, initial_h (none), sequence_lens (none)
node: Constant (unnamed): weights
node: Constant (unnamed): weights
node: Constant (unnamed): weights
node: RNN rnn: layer 0
ignored: 0 nodes
EOF
# A node name with a line feed, an escape sequence and a backslash is
# printed escaped: one line, no control byte.
info_is node_odd_name.onnx <<'EOF'
model: node_odd_name.onnx
format: onnx
input_size: 3
hidden_size: 4
num_layers: 1
direction: forward (file)
bias: true
activation: Tanh (file)
clip: 0
batch_first: false (file)
state_batch_first: false (file: layout 0)
parameters: 36
inputs: X X, initial_h (none), sequence_lens (none)
node: RNN r\x0anode: Forged forged: layer 7\x1b[2J\\: layer 0
ignored: 0 nodes
EOF
# The file's alpha and beta.
info_is node_act_hardsigmoid_ab.onnx <<'EOF'
model: node_act_hardsigmoid_ab.onnx
format: onnx
input_size: 3
hidden_size: 4
num_layers: 1
direction: forward (file)
bias: true
activation: HardSigmoid (file)
activation_alpha: 0.7
activation_beta: 0.2
clip: 0
batch_first: false (file)
state_batch_first: false (file: layout 0)
parameters: 36
inputs: X X, initial_h (none), sequence_lens (none)
node: RNN rnn: layer 0
ignored: 0 nodes
EOF

# ---- --prefix names safetensors tensors: refused for an ONNX model ----
runs=$((runs + 1))
rm -f "$W/y.npy"
"$ELMAN" run --weights "$D/torch_1l.onnx" --input "$D/torch_1l.x.npy" --output "$W/y.npy" \
    --prefix rnn. 2>"$W/err"
rc=$?
[[ $rc == 1 && $(wc -l <"$W/err") == 1 ]] || fail "--prefix with ONNX: exit $rc, $(cat "$W/err")"
grep -q 'this is an ONNX model' "$W/err" || fail "--prefix with ONNX: $(cat "$W/err")"
[[ -e $W/y.npy ]] && fail "--prefix with ONNX: an output was written"
runs=$((runs + 1))
"$ELMAN" info "$D/torch_1l.onnx" --prefix rnn. >"$W/info" 2>"$W/err"
rc=$?
[[ $rc == 1 && $(wc -l <"$W/err") == 1 ]] || fail "info --prefix with ONNX: exit $rc, $(cat "$W/err")"
grep -q 'this is an ONNX model' "$W/err" || fail "info --prefix with ONNX: $(cat "$W/err")"
[[ -s $W/info ]] && fail "info --prefix with ONNX: printed $(cat "$W/info")"

# ---- bad files: exit 1, one line on stderr, nothing written ----
for f in "$D"/bad/*.onnx; do
    runs=$((runs + 1))
    rm -f "$W/y.npy"
    "$ELMAN" run --weights "$f" --input "$D/torch_1l.x.npy" --output "$W/y.npy" 2>"$W/err"
    rc=$?
    [[ $rc == 1 ]] || fail "$(basename "$f"): exit $rc, expected 1"
    [[ $(wc -l <"$W/err") == 1 ]] || fail "$(basename "$f"): stderr is not one line"
    [[ -e $W/y.npy ]] && fail "$(basename "$f"): an output was written"
done
finish test_cli_onnx
