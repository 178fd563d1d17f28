#!/usr/bin/env bash
# The elman tool end to end: every round-trip case of tests/data/io through
# `elman run` compared with PyTorch's output (float32, and float64 with
# --dtype float64), the options beyond nn.RNN (opt_cases.txt: activations,
# clip, direction, one bias, state layout, chunks, threads, deterministic)
# against PyTorch or a float64 reference, bitwise checks of --deterministic,
# `elman info`, --help, and a battery of bad inputs and arguments, each of
# which must exit with the expected status, print exactly one line on stderr
# naming the problem, and leave no file behind.
#
# usage: test_cli.sh ELMAN NPY_COMPARE DATA_DIR
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

# ---- round trips ----
while read -r name prefix nl layout h0 len; do
    [[ -z $name || $name == \#* ]] && continue
    runs=$((runs + 1))
    args=(run --weights "$D/$name.safetensors" --input "$D/$name.x.npy"
          --output "$W/y.npy" --hn "$W/hn.npy")
    [[ $prefix != - ]] && args+=(--prefix "$prefix")
    [[ $nl != - ]] && args+=(--nonlinearity "$nl")
    [[ $layout == bf ]] && args+=(--batch-first)
    [[ $layout == sf ]] && args+=(--seq-first)
    [[ $h0 == 1 ]] && args+=(--h0 "$D/$name.h0.npy")
    [[ $len == 1 ]] && args+=(--lengths "$D/$name.lengths.npy")
    rm -f "$W/y.npy" "$W/hn.npy"
    if ! "$ELMAN" "${args[@]}" 2>"$W/err"; then
        fail "$name: elman run failed: $(cat "$W/err")"
        continue
    fi
    [[ -s $W/err ]] && fail "$name: printed on stderr: $(cat "$W/err")"
    "$CMP" "$W/y.npy" "$D/$name.y.npy" || fail "$name: output differs from PyTorch"
    "$CMP" "$W/hn.npy" "$D/$name.hn.npy" || fail "$name: h_n differs from PyTorch"
    # In chunks of 3 steps: the same, or refused for a bidirectional model.
    runs=$((runs + 1))
    rm -f "$W/y.npy" "$W/hn.npy"
    info=(info "$D/$name.safetensors")
    [[ $prefix != - ]] && info+=(--prefix "$prefix")
    "$ELMAN" "${args[@]}" --chunk 3 2>"$W/err"
    rc=$?
    if "$ELMAN" "${info[@]}" | grep -qxF "bidirectional: true"; then
        [[ $rc -eq 1 ]] && grep -q "backward direction needs the whole sequence" "$W/err" &&
            [[ ! -e $W/y.npy ]] || fail "$name: --chunk 3 of a bidirectional model: exit $rc"
    elif [[ $rc -ne 0 ]]; then
        fail "$name: elman run --chunk 3 failed: $(cat "$W/err")"
    else
        "$CMP" "$W/y.npy" "$D/$name.y.npy" || fail "$name --chunk 3: output differs from PyTorch"
        "$CMP" "$W/hn.npy" "$D/$name.hn.npy" || fail "$name --chunk 3: h_n differs from PyTorch"
    fi
    # float64: PyTorch's float64 model, to 1e-10.
    [[ -f $D/$name.y64.npy ]] || continue
    runs=$((runs + 1))
    rm -f "$W/y.npy" "$W/hn.npy"
    if ! "$ELMAN" "${args[@]}" --dtype float64 2>"$W/err"; then
        fail "$name: elman run --dtype float64 failed: $(cat "$W/err")"
        continue
    fi
    "$CMP" --f64 "$W/y.npy" "$D/$name.y64.npy" || fail "$name: float64 output differs from PyTorch"
    "$CMP" --f64 "$W/hn.npy" "$D/$name.hn64.npy" || fail "$name: float64 h_n differs from PyTorch"
done <"$D/cases.txt"
[[ $runs -ge 25 ]] || fail "only $runs round-trip cases"

# --dtype float32 is the default, bit for bit.
"$ELMAN" run --weights "$D/wide.safetensors" --input "$D/wide.x.npy" --output "$W/y.npy" &&
    "$ELMAN" run --weights "$D/wide.safetensors" --input "$D/wide.x.npy" --output "$W/y32.npy" \
        --dtype float32 && cmp -s "$W/y.npy" "$W/y32.npy" || fail "--dtype float32 is not the default"
rm -f "$W/y32.npy"

# ---- options beyond nn.RNN ----
# Each case of opt_cases.txt runs in float32 (the suite's tolerance) and
# float64 (1e-10) against the float64 expected values.
export ELMAN_FORCE_THREADS=1 # --threads N > 1 starts threads even for small models
nopt=0
while read -r name rest; do
    [[ -z $name || $name == \#* ]] && continue
    nopt=$((nopt + 1))
    read -ra words <<<"$rest"
    args=()
    for w in "${words[@]}"; do
        if [[ $w == @* ]]; then args+=("$D/${w#@}"); else args+=("$w"); fi
    done
    for dtype in float32 float64; do
        runs=$((runs + 1))
        rm -f "$W/y.npy" "$W/hn.npy"
        extra=() mode=()
        [[ $dtype == float64 ]] && extra=(--dtype float64) mode=(--f64)
        if ! "$ELMAN" run "${args[@]}" "${extra[@]}" --output "$W/y.npy" --hn "$W/hn.npy" \
            2>"$W/err"; then
            fail "option case $name ($dtype): elman run failed: $(cat "$W/err")"
            continue
        fi
        [[ -s $W/err ]] && fail "option case $name ($dtype): printed on stderr: $(cat "$W/err")"
        "$CMP" "${mode[@]}" "$W/y.npy" "$D/opt/$name.y.npy" ||
            fail "option case $name ($dtype): output differs"
        "$CMP" "${mode[@]}" "$W/hn.npy" "$D/opt/$name.hn.npy" ||
            fail "option case $name ($dtype): h_n differs"
    done
done <"$D/opt_cases.txt"
[[ $nopt -eq 80 ]] || fail "$nopt option cases, README.md counts 80"

# --activation overrides --nonlinearity wherever each stands: before it
# here (act_overrides_nl has it after), against PyTorch's Sigmoid RNN.
U=(--weights "$D/ext_uni.safetensors" --input "$D/ext_uni.x.npy" --h0 "$D/ext_uni.h0.npy"
   --lengths "$D/ext_uni.lengths.npy")
runs=$((runs + 1))
rm -f "$W/y.npy" "$W/hn.npy"
"$ELMAN" run "${U[@]}" --activation Sigmoid --nonlinearity relu --output "$W/y.npy" \
    --hn "$W/hn.npy" && "$CMP" "$W/y.npy" "$D/opt/act_sigmoid.y.npy" &&
    "$CMP" "$W/hn.npy" "$D/opt/act_sigmoid.hn.npy" ||
    fail "--activation Sigmoid --nonlinearity relu: not the Sigmoid RNN"

# --threads takes 1..1024: the largest runs, with PyTorch's result.
runs=$((runs + 1))
rm -f "$W/y.npy" "$W/hn.npy"
"$ELMAN" run "${U[@]}" --threads 1024 --output "$W/y.npy" --hn "$W/hn.npy" &&
    "$CMP" "$W/y.npy" "$D/opt/act_tanh.y.npy" && "$CMP" "$W/hn.npy" "$D/opt/act_tanh.hn.npy" ||
    fail "--threads 1024 refused or wrong"

# --direction reverse is the backward half of a bidirectional model, here
# elman against elman (opt_cases.txt has it against PyTorch).
R=(--input "$D/ext_rev_bi.x.npy" --lengths "$D/ext_rev_bi.lengths.npy")
runs=$((runs + 1))
"$ELMAN" run --weights "$D/ext_rev_bi.safetensors" "${R[@]}" --output "$W/bi.y.npy" \
    --hn "$W/bi.hn.npy" &&
    "$ELMAN" run --weights "$D/ext_rev_uni.safetensors" "${R[@]}" --direction reverse \
        --output "$W/rev.y.npy" --hn "$W/rev.hn.npy" &&
    "$CMP" --want 2:4:8 "$W/rev.y.npy" "$W/bi.y.npy" &&
    "$CMP" --want 0:1:2 "$W/rev.hn.npy" "$W/bi.hn.npy" ||
    fail "--direction reverse differs from the backward half of the bidirectional model"

# ---- --y-layout onnx: ONNX's Y, the same values ----
# [T, D, B, H] for sequence-first X (bidirectional, with lengths: zeros past
# each length), [B, T, D, H] for batch-first X (ONNX layout 1), [T, D, 1, H]
# for an unbatched X; checked element by element against the default layout.
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    for c in "l3_bi_nobias_h0_len:--h0 $D/l3_bi_nobias_h0_len.h0.npy --lengths $D/l3_bi_nobias_h0_len.lengths.npy" \
        "ext_bi:--lengths $D/ext_bi.lengths.npy" "ext_bi:--seq-first" "unbatched_h0:" \
        "ext_bi:--dtype float64"; do
        name=${c%%:*}
        read -ra extra <<<"${c#*:}"
        runs=$((runs + 1))
        base=(run --weights "$D/$name.safetensors" --input "$D/$name.x.npy" "${extra[@]}")
        rm -f "$W/y.npy" "$W/yo.npy"
        if ! "$ELMAN" "${base[@]}" --output "$W/y.npy" 2>"$W/err" ||
            ! "$ELMAN" "${base[@]}" --output "$W/yo.npy" --y-layout onnx 2>>"$W/err"; then
            fail "--y-layout onnx ($name ${extra[*]}): $(cat "$W/err")"
            continue
        fi
        bf=0
        "$ELMAN" info "$D/$name.safetensors" | grep -qxF "batch_first: true (metadata)" && bf=1
        [[ ${extra[*]} == *--seq-first* ]] && bf=0
        lengths=-
        [[ ${extra[*]} == *--lengths* ]] && lengths=$D/$name.lengths.npy
        /usr/bin/python3 - "$W/y.npy" "$W/yo.npy" "$bf" "$lengths" <<'PY' ||
import sys
import numpy as np
y, yo = np.load(sys.argv[1]), np.load(sys.argv[2])
bf, lengths = sys.argv[3] == "1", sys.argv[4]
D = 2
if y.ndim == 2:  # unbatched: a batch of one
    y = y[:, None, :]
T, B = (y.shape[1], y.shape[0]) if bf else (y.shape[0], y.shape[1])
H = y.shape[2] // D
want = y.reshape(B, T, D, H) if bf else y.reshape(T, B, D, H).transpose(0, 2, 1, 3)
assert yo.dtype == y.dtype and yo.shape == want.shape, (yo.shape, want.shape)
assert np.array_equal(yo, want)
if lengths != "-":
    lens = np.load(lengths)
    assert lens.min() < T, "no padding to check"
    for b, n in enumerate(lens):
        pad = yo[b, n:] if bf else yo[n:, :, b]
        assert not pad.any(), "zeros past the length"
PY
            fail "--y-layout onnx ($name ${extra[*]}): not ONNX's layout of the same values"
    done
fi
bad_layout=$("$ELMAN" run --weights "$D/basic.safetensors" --input "$D/basic.x.npy" \
    --output "$W/yo.npy" --y-layout ONNX 2>&1)
[[ $? -eq 2 && $bad_layout == *"--y-layout must be elman or onnx, not 'ONNX'"* ]] ||
    fail "--y-layout ONNX: $bad_layout"
rm -f "$W/yo.npy"

# ---- --deterministic: a sequence's bits do not depend on its batch, its
# place in it, T, the chunks or the threads ----
ndet=0
while read -r model k len pos yaxis T; do
    [[ -z $model || $model == \#* ]] && continue
    ndet=$((ndet + 1))
    taxis=$((1 - yaxis))
    M=$D/$model
    for dtype in float32 float64; do
        # det_run OUT ARGS...: runs the model deterministically into OUT.{y,hn}.npy
        det_run() {
            local out=$1
            shift
            runs=$((runs + 1))
            rm -f "$W/$out.y.npy" "$W/$out.hn.npy"
            "$ELMAN" run --weights "$M.safetensors" --deterministic --dtype "$dtype" \
                --output "$W/$out.y.npy" --hn "$W/$out.hn.npy" "$@" 2>"$W/err" ||
                fail "$model --deterministic $* ($dtype): $(cat "$W/err")"
        }
        # same BITS_OF_A [SLICES...] A B: compares bit for bit
        same() {
            local what=$1
            shift
            "$CMP" --exact "$@" || fail "$model --deterministic ($dtype): $what differs in its bits"
        }
        full=(--input "$M.x.npy" --h0 "$M.h0.npy" --lengths "$M.lengths.npy")
        det_run ref "${full[@]}"
        # alone: a batch of one, T = its length
        det_run one --input "$M.one.x.npy" --h0 "$M.one.h0.npy"
        same "the sequence alone: output" --got "$yaxis:$k:$((k + 1))" --got "$taxis:0:$len" \
            "$W/ref.y.npy" "$W/one.y.npy"
        same "the sequence alone: h_n" --got "1:$k:$((k + 1))" "$W/ref.hn.npy" "$W/one.hn.npy"
        # elsewhere in a permuted batch
        det_run perm --input "$M.perm.x.npy" --h0 "$M.perm.h0.npy" --lengths "$M.perm.lengths.npy"
        same "the permuted batch: output" --got "$yaxis:$k:$((k + 1))" \
            --want "$yaxis:$pos:$((pos + 1))" "$W/ref.y.npy" "$W/perm.y.npy"
        same "the permuted batch: h_n" --got "1:$k:$((k + 1))" --want "1:$pos:$((pos + 1))" \
            "$W/ref.hn.npy" "$W/perm.hn.npy"
        # padded to a longer T
        det_run pad --input "$M.pad.x.npy" --h0 "$M.h0.npy" --lengths "$M.lengths.npy"
        same "the padded batch: output" --want "$taxis:0:$T" "$W/ref.y.npy" "$W/pad.y.npy"
        same "the padded batch: h_n" "$W/ref.hn.npy" "$W/pad.hn.npy"
        # threads, and chunks (forward models only)
        variants=("--threads 2" "--threads 3")
        [[ $model == ext_uni ]] &&
            variants+=("--chunk 1" "--chunk 2" "--chunk 3" "--chunk 2 --threads 2" "--chunk 100")
        for v in "${variants[@]}"; do
            # shellcheck disable=SC2086
            det_run var "${full[@]}" $v
            same "$v: output" "$W/ref.y.npy" "$W/var.y.npy"
            same "$v: h_n" "$W/ref.hn.npy" "$W/var.hn.npy"
        done
        if [[ $model == ext_uni ]]; then
            det_run onechunk --input "$M.one.x.npy" --h0 "$M.one.h0.npy" --chunk 2 --threads 3
            same "the sequence alone in chunks: output" --got "$yaxis:$k:$((k + 1))" \
                --got "$taxis:0:$len" "$W/ref.y.npy" "$W/onechunk.y.npy"
        fi
    done
done <"$D/det.txt"
[[ $ndet -ge 2 ]] || fail "only $ndet deterministic cases"
rm -f "$W"/*.y.npy "$W"/*.hn.npy

# --option=VALUE, and --hn left out.
rm -f "$W/y.npy"
"$ELMAN" run --weights="$D/basic.safetensors" --input="$D/basic.x.npy" \
    --output="$W/y.npy" && "$CMP" "$W/y.npy" "$D/basic.y.npy" || fail "--option=VALUE form"
[[ $(ls -A "$W") == $'err\nhn.npy\ny.npy' || $(ls -A "$W" | tr '\n' ' ') == "err hn.npy y.npy " ]] ||
    fail "files left in the output directory: $(ls -A "$W")"

# ---- info and help ----
"$ELMAN" info "$D/prefix_given.safetensors" >"$W/info" || fail "info failed"
for want in "prefix: rnn. (detected)" "input_size: 3" "hidden_size: 4" "num_layers: 2" \
    "bidirectional: true" "bias: true" "nonlinearity: tanh (metadata)" "dtype: F32"; do
    grep -qxF "$want" "$W/info" || fail "info lacks '$want'"
done
"$ELMAN" info "$D/no_metadata.safetensors" >"$W/info" || fail "info failed"
for want in "batch_first: false (default)" "nonlinearity: tanh (default)" "ignored: none"; do
    grep -qxF "$want" "$W/info" || fail "info (no metadata) lacks '$want'"
done
"$ELMAN" info "$D/no_metadata.safetensors" --nonlinearity relu --batch-first >"$W/info" ||
    fail "info with flags failed"
for want in "batch_first: true (flag)" "nonlinearity: relu (flag)" "input: X (B, T, 3), or (T, 3) unbatched"; do
    grep -qxF "$want" "$W/info" || fail "info (flags) lacks '$want'"
done
"$ELMAN" info "$D/prefix_given.safetensors" --seq-first | grep -qxF "batch_first: false (flag)" ||
    fail "info --seq-first"
# The tensors beside the RNN (a Linear head, a LayerNorm) are listed as ignored.
grep -qxF "ignored: fc.bias [2], fc.weight [2, 4], norm.bias [3], norm.num_batches_tracked [], \
norm.running_mean [3], norm.running_var [3], norm.weight [3]" <("$ELMAN" info "$D/prefix_given.safetensors") ||
    fail "info does not list the ignored tensors"
# Names are printed escaped (a control byte as \xNN, a backslash doubled):
# a file cannot forge lines of the listing or write to the terminal. The
# model: prefix "a<LF>b\<ESC>." on a 1x1 RNN without biases, and an ignored
# tensor named "x<LF>prefix: forged" (JSON escapes in the header).
json='{"a\nb\\\u001b.weight_ih_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},'
json+='"a\nb\\\u001b.weight_hh_l0":{"dtype":"F32","shape":[1,1],"data_offsets":[4,8]},'
json+='"x\nprefix: forged":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'
n=${#json}
{
    for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"; done
    printf '%s' "$json"
    printf '\0\0\0\77\0\0\0\77\0\0\0\77' # three times 0.5f
} >"$W/odd.safetensors"
"$ELMAN" info "$W/odd.safetensors" >"$W/info" 2>"$W/err" || fail "info of odd names failed: $(cat "$W/err")"
grep -qxF 'prefix: a\x0ab\\\x1b. (detected)' "$W/info" || fail "info: the prefix is not escaped: $(cat "$W/info")"
grep -qxF 'ignored: x\x0aprefix: forged [1]' "$W/info" || fail "info: an ignored name is not escaped"
[[ $(grep -c '^prefix: ' "$W/info") -eq 1 ]] || fail "info: a name forged a line"
LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$W/info" && fail "info printed a control byte"
"$ELMAN" info "$D/f16_model.safetensors" | grep -qxF "dtype: F16" || fail "info: dtype"
"$ELMAN" info "$D/single_bias.safetensors" | grep -qxF "bias: single (bias_ih only)" ||
    fail "info: one bias"
"$ELMAN" info "$D/prefix_nodot.safetensors" --prefix encoder.rnn |
    grep -qxF "prefix: encoder.rnn. (flag)" || fail "info --prefix"
for h in "--help" "help" "run --help" "info --help"; do
    # shellcheck disable=SC2086
    "$ELMAN" $h >"$W/help" 2>&1 || fail "elman $h exited non-zero"
    grep -q "^SYNOPSIS" "$W/help" && grep -q "elman run --weights" "$W/help" ||
        fail "elman $h: no usage text"
done
for o in "--activation NAME\[:ALPHA\[:BETA\]\]" "--clip C" \
    "--direction forward|reverse|bidirectional" "--dtype float32|float64" "--chunk N" \
    "--threads N" "--state-batch-first" "--deterministic"; do
    grep -q -- "^    $o\$" "$W/help" || fail "--help does not describe $o"
done
"$ELMAN" --version | grep -q "^elman [0-9]" || fail "--version"
"$ELMAN" info "$D/basic.safetensors" --prefix "" | grep -qxF "prefix: (none) (flag)" ||
    fail "--prefix \"\" (none)"

# ---- bad inputs ----
# bad STATUS MESSAGE_PART ARGS...: runs elman in an empty directory where
# its outputs (y.npy, hn.npy) would go.
bad() {
    local want=$1 part=$2
    shift 2
    runs=$((runs + 1))
    local dir="$W/case"
    rm -rf "$dir"
    mkdir "$dir"
    (cd "$dir" && "$ELMAN" "$@" >"$W/out" 2>"$W/err")
    local rc=$?
    local lines
    lines=$(wc -l <"$W/err")
    if [[ $rc -ne $want ]]; then
        fail "elman $*: exit $rc, expected $want ($(cat "$W/err"))"
    elif [[ $lines -ne 1 ]]; then
        fail "elman $*: $lines lines on stderr: $(cat "$W/err")"
    elif ! grep -qF -- "$part" "$W/err"; then
        fail "elman $*: stderr '$(cat "$W/err")' lacks '$part'"
    elif [[ -n $(ls -A "$dir") ]]; then
        fail "elman $*: left files behind: $(ls -A "$dir")"
    elif [[ -s $W/out ]]; then
        fail "elman $*: printed on stdout"
    fi
}

M=$D/basic.safetensors
X=$D/basic.x.npy
B=$D/bad
run=(run --weights "$M" --input "$X" --output y.npy --hn hn.npy)

# The command line (exit 2).
bad 2 "missing command"
bad 2 "unknown command 'frobnicate'" frobnicate
bad 2 "unknown option '--frobnicate'" "${run[@]}" --frobnicate
bad 2 "unknown option '-x'" "${run[@]}" -x
bad 2 "--weights is required" run --input "$X" --output y.npy
bad 2 "--input is required" run --weights "$M" --output y.npy
bad 2 "--output is required" run --weights "$M" --input "$X"
bad 2 "--h0 needs a value" "${run[@]}" --h0
bad 2 "empty value" "${run[@]}" --h0=
bad 2 "must be tanh or relu, not 'sigmoid'" "${run[@]}" --nonlinearity sigmoid
bad 2 "exclude each other" "${run[@]}" --batch-first --seq-first
bad 2 "--input given twice" "${run[@]}" --input "$X"
bad 2 "takes no value" "${run[@]}" --batch-first=yes
bad 2 "unexpected argument 'extra'" "${run[@]}" extra
bad 2 "same file" run --weights "$M" --input "$X" --output y.npy --hn y.npy
bad 2 "which model" info
bad 2 "unexpected argument" info "$M" "$M"
bad 2 "unknown option '--output'" info "$M" --output y.npy

# The options beyond nn.RNN.
bad 2 "--activation 'gelu' is not one of Tanh, Relu" "${run[@]}" --activation gelu
bad 2 "--activation 'leaky_relu' is not one of" "${run[@]}" --activation leaky_relu:0.1
bad 2 "--activation '' is not one of" "${run[@]}" --activation :0.5
bad 2 "--activation has an empty value" "${run[@]}" --activation=
for a in Tanh:1 relu:0 SIGMOID:1:2 Softsign:0.5 softplus:1; do
    bad 2 "takes no parameter (no ALPHA or BETA)" "${run[@]}" --activation "$a"
done
for a in LeakyRelu:0.1:0.2 thresholdedrelu:1:0 Elu:1:1; do
    bad 2 "takes ALPHA only, no more" "${run[@]}" --activation "$a"
done
for a in Affine:1:2:3 ScaledTanh:1:1:1 HardSigmoid:0.2:0.5:0; do
    bad 2 "takes ALPHA and BETA, no more" "${run[@]}" --activation "$a"
done
bad 2 "Elu: ALPHA 'x' is not a finite number" "${run[@]}" --activation Elu:x
bad 2 "Affine: ALPHA '' is not a finite number" "${run[@]}" --activation Affine::0.5
bad 2 "HardSigmoid: BETA 'nan' is not a finite number" "${run[@]}" --activation hardsigmoid:0.2:nan
bad 2 "LeakyRelu: ALPHA 'inf' is not a finite number" "${run[@]}" --activation LeakyRelu:inf
bad 2 "ScaledTanh: BETA '' is not a finite number" "${run[@]}" --activation ScaledTanh:1:
for c in 0 -0 -1 -0.5 nan inf -inf 1e999 abc 0.5x " 1" 0x; do
    bad 2 "--clip must be a finite number > 0, not '$c'" "${run[@]}" --clip "$c"
done
for v in backward Reverse bi ""; do
    [[ -z $v ]] && { bad 2 "--direction has an empty value" "${run[@]}" --direction=; continue; }
    bad 2 "--direction must be forward, reverse or bidirectional, not '$v'" "${run[@]}" --direction "$v"
done
for v in float16 double FLOAT64 f64; do
    bad 2 "--dtype must be float32 or float64, not '$v'" "${run[@]}" --dtype "$v"
done
for v in 0 -1 1.5 x 1025 99999999999999999999 " 2"; do
    bad 2 "--threads must be 1..1024, not '$v'" "${run[@]}" --threads "$v"
done
for v in 0 -3 2.5 x 2147483648; do
    bad 2 "--chunk must be a number of time steps >= 1, not '$v'" "${run[@]}" --chunk "$v"
done
bad 2 "--chunk given twice" "${run[@]}" --chunk 2 --chunk 3
bad 2 "--deterministic takes no value" "${run[@]}" --deterministic=1
bad 2 "--state-batch-first takes no value" "${run[@]}" --state-batch-first=yes
bad 2 "--chunk cannot run with --direction reverse: the backward direction needs the whole sequence" \
    "${run[@]}" --direction reverse --chunk 2
bad 2 "--chunk cannot run with --direction bidirectional" "${run[@]}" --chunk 1 --direction bidirectional
BI=(run --weights "$D/ext_bi.safetensors" --input "$D/ext_bi.x.npy" --output y.npy --hn hn.npy)
bad 1 "--chunk cannot run a bidirectional model: the backward direction needs the whole sequence" \
    "${BI[@]}" --chunk 2
bad 1 "--chunk cannot run a bidirectional model" "${BI[@]}" --chunk 100 --dtype float64
bad 1 "--direction reverse needs a model with one direction, but this one is bidirectional" \
    "${BI[@]}" --direction reverse
bad 1 "--direction forward needs a model with one direction" "${BI[@]}" --direction forward
bad 1 "--direction bidirectional needs a bidirectional model" "${run[@]}" --direction bidirectional
bad 1 "h0 shape [1, 3, 4], expected [2, 1, 4] (--state-batch-first)" "${run[@]}" \
    --state-batch-first --h0 "$B/h0_wrong_shape.npy"
bad 1 "h0 shape [1, 3, 4], expected [1, 2, 4]" "${run[@]}" --dtype float64 --h0 "$B/h0_wrong_shape.npy"
bad 1 "lengths[1] = 0 is out of range 1..4" "${run[@]}" --chunk 2 --lengths "$B/lengths_zero.npy"
bad 1 "missing tensor bias_hh_l1_reverse: the model mixes one and two biases" \
    run --weights "$B/st_mixed_bias.safetensors" --input "$X" --output y.npy
bad 1 "missing tensor bias_hh_l0: the model mixes one and two biases" \
    run --weights "$B/st_missing_tensor.safetensors" --input "$X" --output y.npy --dtype float64

# Files that cannot be read or written (exit 1).
bad 1 "cannot open" run --weights "$D/nonexistent.safetensors" --input "$X" --output y.npy
bad 1 "cannot open" run --weights "$M" --input "$D/nonexistent.npy" --output y.npy
bad 1 "cannot open" info "$D/nonexistent.safetensors"
bad 1 "cannot create" run --weights "$M" --input "$X" --output nodir/y.npy
bad 1 "nodir/hn.npy" run --weights "$M" --input "$X" --output y.npy --hn nodir/hn.npy
bad 1 "--weights is a directory, not a regular file" run --weights "$D" --input "$X" --output y.npy

# Malformed and inconsistent models.
bad 1 "out of range" run --weights "$B/st_truncated.safetensors" --input "$X" --output y.npy
bad 1 "too short" run --weights "$B/st_short.safetensors" --input "$X" --output y.npy
bad 1 "too short" run --weights "$B/st_empty.safetensors" --input "$X" --output y.npy
bad 1 "exceeds" run --weights "$B/st_header_beyond_file.safetensors" --input "$X" --output y.npy
bad 1 "absurd" run --weights "$B/st_header_absurd.safetensors" --input "$X" --output y.npy
bad 1 "not valid JSON" run --weights "$B/st_invalid_json.safetensors" --input "$X" --output y.npy
bad 1 "'{'" run --weights "$B/st_not_object.safetensors" --input "$X" --output y.npy
bad 1 "after its JSON" run --weights "$B/st_trailing_garbage_header.safetensors" --input "$X" --output y.npy
bad 1 "out of range" run --weights "$B/st_offsets_out_of_range.safetensors" --input "$X" --output y.npy
bad 1 "overlap" run --weights "$B/st_offsets_overlap.safetensors" --input "$X" --output y.npy
bad 1 "needs 80" run --weights "$B/st_offsets_mismatch_shape.safetensors" --input "$X" --output y.npy
bad 1 "belong to no tensor" run --weights "$B/st_data_gap.safetensors" --input "$X" --output y.npy
bad 1 "missing tensor bias_hh_l0" run --weights "$B/st_missing_tensor.safetensors" --input "$X" --output y.npy
bad 1 "missing tensor weight_ih_l1" run --weights "$B/st_layer_gap.safetensors" --input "$X" --output y.npy
bad 1 "weight_hh_l1: shape [4, 5], expected [4, 4]" run --weights "$B/st_wrong_shape.safetensors" --input "$X" --output y.npy
bad 1 "weight_ih_l1: shape [4, 5], expected [4, 4]" run --weights "$B/st_wrong_input_shape.safetensors" --input "$X" --output y.npy
bad 1 "occurs twice" run --weights "$B/st_duplicate_name.safetensors" --input "$X" --output y.npy
bad 1 "dtype I32" run --weights "$B/st_int_weights.safetensors" --input "$X" --output y.npy
bad 1 "unknown dtype" run --weights "$B/st_unknown_dtype.safetensors" --input "$X" --output y.npy
bad 1 "gelu" run --weights "$B/st_bad_nonlinearity.safetensors" --input "$X" --output y.npy
bad 1 "maybe" run --weights "$B/st_bad_batch_first.safetensors" --input "$X" --output y.npy
bad 1 "not a string" run --weights "$B/st_metadata_not_string.safetensors" --input "$X" --output y.npy
bad 1 "num_layers 3" run --weights "$B/st_metadata_contradicts.safetensors" --input "$X" --output y.npy
bad 1 "no nn.RNN" run --weights "$B/st_no_rnn.safetensors" --input "$X" --output y.npy
bad 1 "several RNNs" run --weights "$B/st_two_rnns.safetensors" --input "$X" --output y.npy
bad 1 "weight_hh_l0_reverse" run --weights "$B/st_half_reverse.safetensors" --input "$X" --output y.npy
bad 1 "weight_hr_l0" run --weights "$B/st_lstm_projection.safetensors" --input "$X" --output y.npy
bad 1 "overlap" info "$B/st_offsets_overlap.safetensors"
bad 1 "no tensor \"nope.weight_ih_l0\"" "${run[@]}" --prefix nope.
bad 1 "the file's RNN prefixes are \"rnn.\"" run --weights "$D/prefix_given.safetensors" \
    --input "$D/prefix_given.x.npy" --output y.npy --prefix ""

# Malformed or unsupported arrays.
for f in npy_bad_magic:"bad magic" npy_truncated:"truncated" \
    npy_header_beyond_file:"exceeds" npy_big_endian:"big-endian" \
    npy_fortran:"Fortran" npy_object:"'|O'" npy_bad_version:"version 9.0" \
    npy_garbage_header:"shape" npy_extra_data:"holds 100" npy_float16:"'<f2'"; do
    bad 1 "${f#*:}" run --weights "$M" --input "$B/${f%%:*}.npy" --output y.npy
done
# A dtype error names what that argument takes, and only that.
bad 1 "npy_float16.npy: dtype '<f2'; --input takes float32 or float64 ('<f4', '<f8')" \
    run --weights "$M" --input "$B/npy_float16.npy" --output y.npy
grep -q "int32\|int64" "$W/err" && fail "--input's dtype error lists integer types: $(cat "$W/err")"
bad 1 "dtype '<f2'; --h0 takes float32 or float64" "${run[@]}" --h0 "$B/npy_float16.npy"
bad 1 "dtype '<f2'; --lengths takes int32 or int64" "${run[@]}" --lengths "$B/npy_float16.npy"
bad 1 "dtype float32; --lengths takes int32 or int64" "${run[@]}" --lengths "$B/lengths_float.npy"
bad 1 "dtype int64; --h0 takes float32 or float64" "${run[@]}" --h0 "$B/h0_int64.npy"
bad 1 "bad magic" "${run[@]}" --h0 "$B/npy_bad_magic.npy"
bad 1 "truncated" "${run[@]}" --lengths "$B/npy_truncated.npy"

# Arrays that do not fit the model (basic: I=3, H=4, one layer; X is (4, 2, 3)).
bad 1 "input_size is 3" run --weights "$M" --input "$B/x_wrong_input_size.npy" --output y.npy
bad 1 "expected 3 dimensions" run --weights "$M" --input "$B/x_4d.npy" --output y.npy
bad 1 "expected 3 dimensions" run --weights "$M" --input "$B/x_1d.npy" --output y.npy
bad 1 "dtype int32" run --weights "$M" --input "$B/x_int32.npy" --output y.npy
bad 1 "seq_len and batch" run --weights "$M" --input "$B/x_empty_batch.npy" --output y.npy
bad 1 "h0 shape [1, 3, 4], expected [1, 2, 4]" "${run[@]}" --h0 "$B/h0_wrong_shape.npy"
bad 1 "h0 shape [1, 4], expected [1, 2, 4]" "${run[@]}" --h0 "$B/h0_2d_for_batched.npy"
bad 1 "dtype int64" "${run[@]}" --h0 "$B/h0_int64.npy"
bad 1 "h0 shape [1, 3, 4], expected [4, 4]" run --weights "$D/unbatched_h0.safetensors" \
    --input "$D/unbatched_h0.x.npy" --output y.npy --h0 "$B/h0_wrong_shape.npy"
bad 1 "h0 shape" run --weights "$D/unbatched_h0.safetensors" \
    --input "$D/unbatched_h0.x.npy" --output y.npy --h0 "$D/l3_bi_nobias_h0_len.h0.npy"
bad 1 "lengths[1] = 0 is out of range 1..4" "${run[@]}" --lengths "$B/lengths_zero.npy"
bad 1 "lengths[0] = 5 is out of range 1..4" "${run[@]}" --lengths "$B/lengths_too_long.npy"
bad 1 "lengths[0] = -1" "${run[@]}" --lengths "$B/lengths_negative.npy"
bad 1 "lengths[1] = 1099511627776" "${run[@]}" --lengths "$B/lengths_huge.npy"
bad 1 "expected int32 or int64" "${run[@]}" --lengths "$B/lengths_float.npy"
bad 1 "lengths shape [3], expected [2]" "${run[@]}" --lengths "$B/lengths_wrong_count.npy"
bad 1 "lengths shape [1, 2], expected [2]" "${run[@]}" --lengths "$B/lengths_2d.npy"
bad 1 "unbatched" run --weights "$D/unbatched_h0.safetensors" \
    --input "$D/unbatched_h0.x.npy" --output y.npy --lengths "$B/lengths_zero.npy"
# batch_first from the flag makes X (B=4, T=2): lengths of 4 no longer fit.
bad 1 "lengths[0] = 4 is out of range 1..2" "${run[@]}" --batch-first --lengths "$B/lengths_batch_first.npy"

# An output path that is a directory: nothing but that directory remains.
runs=$((runs + 1))
rm -rf "$W/case" && mkdir -p "$W/case/out.npy"
if (cd "$W/case" && "$ELMAN" run --weights "$M" --input "$X" --output out.npy 2>"$W/err"); then
    fail "writing onto a directory succeeded"
fi
[[ $(wc -l <"$W/err") -eq 1 && $(ls -A "$W/case") == out.npy && -z $(ls -A "$W/case/out.npy") ]] ||
    fail "output onto a directory: $(cat "$W/err"); left: $(ls -A "$W/case")"

finish test_cli
