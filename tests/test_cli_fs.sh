#!/usr/bin/env bash
# The elman tool and the file system (issue 9): the outputs' commit protocol
# (temporaries renamed into place only when every output is written; on a
# failure or a fatal signal only the temporaries go), aliases between
# outputs and inputs, inputs that are not regular files, devices and FIFOs
# as outputs, long names, concurrent runs. Every refusal: exit 1 (2 for the
# command line), exactly one line on stderr, nothing created, nothing else
# touched.
#
# usage: test_cli_fs.sh ELMAN NPY_COMPARE DATA_DIR [SANITIZED]
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
# A tool that reads /dev/zero to the end must not take the machine with it
# (the sanitizers need their address space: no limit under them).
[[ $SANITIZED == 1 ]] || ulimit -v 4000000

# A scratch directory with the model, X, an old result and a snapshot of
# everything in it (names, kinds, contents), to compare after a refusal.
setup() {
    rm -rf "$W/s"
    mkdir "$W/s"
    cp "$D/basic.safetensors" "$W/s/m.safetensors"
    cp "$D/basic.x.npy" "$W/s/x.npy"
    printf 'an earlier result\n' >"$W/s/old.npy"
}
snapshot() {
    (cd "$W/s" && find . -printf '%p %y %l\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# refused STATUS MESSAGE_PART ARGS...: runs elman in $W/s; it must exit
# with STATUS, print one line containing MESSAGE_PART, and leave the
# directory exactly as it was.
refused() {
    local want=$1 part=$2
    shift 2
    runs=$((runs + 1))
    local before after
    before=$(snapshot)
    (cd "$W/s" && timeout 20 "$ELMAN" "$@" >"$W/out" 2>"$W/err")
    local rc=$?
    after=$(snapshot)
    if [[ $rc -ne $want ]]; then
        fail "elman $*: exit $rc, expected $want ($(cat "$W/err"))"
    elif [[ $(wc -l <"$W/err") -ne 1 ]]; then
        fail "elman $*: not one line on stderr: $(cat "$W/err")"
    elif ! grep -qF -- "$part" "$W/err"; then
        fail "elman $*: stderr '$(cat "$W/err")' lacks '$part'"
    elif [[ $before != "$after" ]]; then
        fail "elman $*: the directory changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"
    fi
}

# ok ARGS...: runs elman in $W/s; it must succeed silently, leaving no
# temporary behind.
ok() {
    runs=$((runs + 1))
    (cd "$W/s" && timeout 20 "$ELMAN" "$@" >"$W/out" 2>"$W/err") ||
        fail "elman $*: exit $? ($(cat "$W/err"))"
    [[ -s $W/err ]] && fail "elman $*: printed on stderr: $(cat "$W/err")"
    no_temporaries "elman $*"
}
no_temporaries() {
    local left
    left=$(find "$W" -name '.elman-*' -o -name '*.tmp-*')
    [[ -z $left ]] || fail "$1: temporaries left: $left"
    rm -f $left
}

RUN=(run --weights m.safetensors --input x.npy)

# ---- an input or an earlier result is never lost ----
setup
# The old tool renamed Y over x.npy, then removed it when --hn failed.
refused 1 "--output names the --input file" "${RUN[@]}" --output x.npy --hn nodir/hn.npy
refused 1 "--output names the --input file" "${RUN[@]}" --output x.npy
refused 1 "--output names the --weights file" "${RUN[@]}" --output m.safetensors
refused 1 "--hn names the --input file" "${RUN[@]}" --output y.npy --hn ./x.npy
refused 1 "--output names the --input file" "${RUN[@]}" --output "$W/s/../s/x.npy"
ln -s x.npy "$W/s/xlink.npy"
ln "$W/s/x.npy" "$W/s/xhard.npy"
refused 1 "--output names the --input file" "${RUN[@]}" --output xlink.npy
refused 1 "--output names the --input file" "${RUN[@]}" --output xhard.npy
cp "$D/basic.h0.npy" "$W/s/h0.npy" 2>/dev/null || cp "$D/l3_bi_nobias_h0_len.h0.npy" "$W/s/h0.npy"
refused 1 "--hn names the --h0 file" run --weights m.safetensors --input x.npy --h0 h0.npy \
    --output y.npy --hn h0.npy
# An earlier result stays when a later output fails: before anything is
# computed (no directory), or while writing (a full device).
refused 1 "nodir/hn.npy: cannot create a file there" "${RUN[@]}" --output old.npy --hn nodir/hn.npy
if [[ -c /dev/full ]]; then
    refused 1 "/dev/full: cannot write" "${RUN[@]}" --output old.npy --hn /dev/full
    refused 1 "/dev/full: cannot write" "${RUN[@]}" --output /dev/full --hn old.npy
fi

# ---- two outputs naming one file ----
setup
refused 2 "same file" "${RUN[@]}" --output y.npy --hn y.npy
refused 1 "--hn and --output (y.npy) name the same file" "${RUN[@]}" --output y.npy --hn ./y.npy
refused 1 "name the same file" "${RUN[@]}" --output y.npy --hn "$W/s/y.npy"
mkdir "$W/s/sub"
refused 1 "name the same file" "${RUN[@]}" --output y.npy --hn sub/../y.npy
ln -s y.npy "$W/s/ylink.npy" # dangling: a write through it creates y.npy
refused 1 "name the same file" "${RUN[@]}" --output y.npy --hn ylink.npy
refused 1 "name the same file" "${RUN[@]}" --output old.npy --hn ./old.npy
ln -s old.npy "$W/s/oldlink.npy"
refused 1 "name the same file" "${RUN[@]}" --output old.npy --hn oldlink.npy
ln -s sub "$W/s/sublink"
refused 1 "name the same file" "${RUN[@]}" --output sub/y.npy --hn sublink/y.npy

# ---- the aliases are refused before anything is read or computed ----
# With a model and an X that are not files of their formats at all, the
# refusal must still be the alias's: nothing was read before it.
setup
printf 'not a model\n' >"$W/s/bad.safetensors"
printf 'not an array\n' >"$W/s/bad.npy"
BAD=(run --weights bad.safetensors --input bad.npy)
refused 1 "--output names the --input file" "${BAD[@]}" --output bad.npy
refused 1 "--output names the --weights file" "${BAD[@]}" --output ./bad.safetensors
refused 1 "--hn and --output (y.npy) name the same file" "${BAD[@]}" --output y.npy --hn ./y.npy
refused 1 "nodir/hn.npy: cannot create a file there" "${BAD[@]}" --output y.npy --hn nodir/hn.npy
# and the same files with no alias are refused for what they are
refused 1 "bad.safetensors" "${BAD[@]}" --output y.npy

# ---- a write through a link replaces the file it names, not the link ----
setup
ln -s old.npy "$W/s/oldlink.npy"
ok "${RUN[@]}" --output oldlink.npy
[[ -L $W/s/oldlink.npy ]] && "$CMP" "$W/s/old.npy" "$D/basic.y.npy" ||
    fail "--output through a link: the link was replaced or the file not written"

# ---- inputs that are not regular files: refused at once, never read ----
setup
mkfifo "$W/s/fifo"
for opt in --weights --input --h0 --lengths; do
    for f in fifo /dev/zero /dev/urandom sub_dir; do
        [[ $f == sub_dir ]] && mkdir -p "$W/s/sub_dir"
        [[ -e $f || -e $W/s/$f ]] || continue
        args=(run --weights m.safetensors --input x.npy --output y.npy)
        case $opt in
        --weights) args[2]=$f ;;
        --input) args[4]=$f ;;
        *) args+=("$opt" "$f") ;;
        esac
        kind=FIFO
        [[ $f == /dev/* ]] && kind="character device"
        [[ $f == sub_dir ]] && kind=directory
        refused 1 "$f: $opt is a $kind, not a regular file" "${args[@]}"
    done
done
refused 1 "is a FIFO" info fifo
refused 1 "is a character device" info /dev/zero

# ---- devices and FIFOs as outputs: written in place, never replaced ----
setup
ok "${RUN[@]}" --output /dev/null --hn /dev/null
[[ -c /dev/null ]] || fail "/dev/null is no longer a character device"
mkfifo "$W/s/yfifo"
runs=$((runs + 1))
cat "$W/s/yfifo" >"$W/fromfifo" &
reader=$!
(cd "$W/s" && timeout 20 "$ELMAN" "${RUN[@]}" --output yfifo) 2>"$W/err" ||
    fail "--output FIFO: $(cat "$W/err")"
wait $reader
[[ -p $W/s/yfifo ]] && "$CMP" "$W/fromfifo" "$D/basic.y.npy" ||
    fail "--output FIFO: the FIFO was replaced or did not carry Y"
mkdir "$W/s/sub_dir"
refused 1 "sub_dir: --output names a directory" "${RUN[@]}" --output sub_dir
refused 1 "sub_dir/: --output names a directory" "${RUN[@]}" --output sub_dir/
refused 1 "new/: --output names a directory, not a file" "${RUN[@]}" --output new/

# ---- the longest legal name, and the longest name in a long path ----
setup
name=$(printf 'y%.0s' $(seq 251)).npy # 255 bytes
ok "${RUN[@]}" --output "$name" --hn "${name/y/h}"
"$CMP" "$W/s/$name" "$D/basic.y.npy" || fail "255-byte name: Y differs"
name=$(printf 'y%.0s' $(seq 252)).npy # 256 bytes: the file system refuses it
refused 1 "too long" "${RUN[@]}" --output "$name"

# ---- a fatal signal while running: the temporaries go, nothing else ----
# A model and an input large enough to run for a while (H=512, 26 MB of Y).
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    /usr/bin/python3 "$(dirname "$0")/make_rnn_model.py" "$W/big" 16 512 1 200 64 >/dev/null
    # what an uninterrupted run writes, and how long it takes
    t0=$(date +%s%N)
    "$ELMAN" run --weights "$W/big.safetensors" --input "$W/big.x.npy" \
        --output "$W/big.y.npy" --hn "$W/big.hn.npy" 2>/dev/null ||
        fail "the large model did not run"
    run_ms=$((($(date +%s%N) - t0) / 1000000))
    killed=0
    set -m # background jobs keep SIGINT (a non-interactive shell would ignore it)
    for sig in TERM INT HUP QUIT TERM INT HUP; do
        setup
        cp old.npy "$W/s/y.npy" 2>/dev/null || cp "$W/s/old.npy" "$W/s/y.npy"
        (cd "$W/s" && exec "$ELMAN" run --weights "$W/big.safetensors" --input "$W/big.x.npy" \
            --output y.npy --hn hn.npy 2>/dev/null) &
        pid=$!
        # 10-95% of an uninterrupted run (150-350 ms on the machines seen):
        # the last ones land in the renames
        ms=$((run_ms * (10 + RANDOM % 86) / 100))
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -s "$sig" "$pid" 2>/dev/null
        wait "$pid"
        rc=$?
        runs=$((runs + 1))
        # Killed: before the renames, nothing changed; once they began
        # (the signal waits), every output is in place. Never some of each.
        if [[ $rc -eq $((128 + $(kill -l "$sig"))) ]]; then
            killed=$((killed + 1))
            if ! cmp -s "$W/s/y.npy" "$W/s/old.npy" || [[ -e $W/s/hn.npy ]]; then
                cmp -s "$W/s/y.npy" "$W/big.y.npy" && cmp -s "$W/s/hn.npy" "$W/big.hn.npy" ||
                    fail "SIG$sig: some outputs replaced and not others, or incomplete"
            fi
        elif [[ $rc -eq 0 ]]; then
            cmp -s "$W/s/y.npy" "$W/big.y.npy" && cmp -s "$W/s/hn.npy" "$W/big.hn.npy" ||
                fail "SIG$sig: the run ended before the signal with other outputs"
        else
            fail "SIG$sig: exit $rc, not death by the signal"
        fi
        no_temporaries "SIG$sig"
    done
    set +m
    [[ $killed -gt 0 ]] || fail "no run was killed (each ended before the signal)"
    # SIGXFSZ: Y (26 MB) passes a 100 KiB file size limit.
    setup
    runs=$((runs + 1))
    (cd "$W/s" && ulimit -f 100 && exec "$ELMAN" run --weights "$W/big.safetensors" \
        --input "$W/big.x.npy" --output y.npy --hn hn.npy 2>/dev/null)
    rc=$?
    [[ $rc -eq $((128 + $(kill -l XFSZ))) && ! -e $W/s/y.npy && ! -e $W/s/hn.npy ]] ||
        fail "SIGXFSZ: exit $rc"
    no_temporaries "SIGXFSZ"
    # SIGPIPE: a FIFO output whose reader leaves after 100 bytes.
    mkfifo "$W/s/pipe"
    runs=$((runs + 1))
    head -c 100 "$W/s/pipe" >/dev/null &
    (cd "$W/s" && exec "$ELMAN" run --weights "$W/big.safetensors" --input "$W/big.x.npy" \
        --hn hn.npy --output pipe 2>/dev/null)
    rc=$?
    wait
    [[ $rc -eq $((128 + $(kill -l PIPE))) && ! -e $W/s/hn.npy ]] || fail "SIGPIPE: exit $rc"
    no_temporaries "SIGPIPE"
fi

# ---- a fatal signal between two renames: it waits for the last one ----
# rename_signal.c, preloaded, raises the signal right after the first
# rename succeeds: the tool must still put the other output in place, then
# die of that signal. (The kills above reach the renames only by chance.)
if [[ -n ${ELMAN_TEST_RENAME_PRELOAD:-} ]]; then
    # ASan wants its runtime first in the list of libraries; the preloaded
    # one comes before it.
    asan_options=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    for sig in INT TERM HUP QUIT PIPE XFSZ; do
        setup
        cp "$W/s/old.npy" "$W/s/y.npy"
        runs=$((runs + 1))
        (cd "$W/s" && ELMAN_TEST_RENAME_SIGNAL=$(kill -l "$sig") ASAN_OPTIONS=$asan_options \
            LD_PRELOAD=$ELMAN_TEST_RENAME_PRELOAD exec "$ELMAN" "${RUN[@]}" \
            --output y.npy --hn hn.npy 2>"$W/err")
        rc=$?
        [[ $rc -eq $((128 + $(kill -l "$sig"))) ]] ||
            fail "SIG$sig between the renames: exit $rc, not death by it: $(cat "$W/err")"
        "$CMP" "$W/s/y.npy" "$D/basic.y.npy" && "$CMP" "$W/s/hn.npy" "$D/basic.hn.npy" ||
            fail "SIG$sig between the renames: the outputs are not all in place"
        no_temporaries "SIG$sig between the renames"
    done
else
    echo "test_cli_fs: no signal between the renames (ELMAN_TEST_RENAME_PRELOAD unset)"
fi

# ---- synced, then renamed; OpenBLAS kept to one thread ----
# cli_trace.c, preloaded, records each process image's start (with
# OPENBLAS_NUM_THREADS), each fsync with its file, and each rename with the
# process's thread count then.
if [[ -n ${ELMAN_TEST_TRACE_PRELOAD:-} ]]; then
    asan_options=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
    # traced ENV... -- ARGS...: runs elman in $W/s under the trace, with ENV.
    traced() {
        local envs=()
        while [[ $1 != -- ]]; do envs+=("$1"); shift; done
        shift
        rm -f "$W/trace"
        runs=$((runs + 1))
        # (timeout is not traced: only the tool has the preload)
        (cd "$W/s" && timeout 20 env -u OPENBLAS_NUM_THREADS "${envs[@]}" \
            ELMAN_TEST_TRACE="$W/trace" ASAN_OPTIONS=$asan_options \
            LD_PRELOAD="$ELMAN_TEST_TRACE_PRELOAD" "$ELMAN" "$@" >"$W/out" 2>"$W/err")
    }
    for blas in unset 1 2; do
        setup
        envs=()
        [[ $blas != unset ]] && envs=(OPENBLAS_NUM_THREADS=$blas)
        traced "${envs[@]}" -- "${RUN[@]}" --output y.npy --hn hn.npy --threads 1 ||
            fail "traced run (OPENBLAS_NUM_THREADS $blas): exit $? ($(cat "$W/err"))"
        "$CMP" "$W/s/y.npy" "$D/basic.y.npy" || fail "traced run: Y differs"
        no_temporaries "traced run"
        # One start when OPENBLAS_NUM_THREADS is already 1; else two: the
        # tool starts itself again once, with it set to 1.
        starts=$(grep -c '^start ' "$W/trace")
        if [[ $blas == 1 ]]; then
            [[ $starts -eq 1 ]] || fail "OPENBLAS_NUM_THREADS=1: the tool started $starts times, not once"
        else
            [[ $starts -eq 2 ]] || fail "OPENBLAS_NUM_THREADS $blas: the tool started $starts times, not twice"
            [[ $(grep '^start ' "$W/trace" | tail -n 1) == "start OPENBLAS_NUM_THREADS=1 ELMAN_CLI_EXEC=1" ]] ||
                fail "OPENBLAS_NUM_THREADS $blas: started again without OPENBLAS_NUM_THREADS=1: $(cat "$W/trace")"
        fi
        # Y and HN each: its temporary synced, then renamed into place (by
        # one thread: OpenBLAS's pool is one thread, --threads 1 starts
        # none), then its directory synced.
        [[ $(grep -c '^rename ' "$W/trace") -eq 2 ]] || fail "not two renames: $(cat "$W/trace")"
        for out in y.npy hn.npy; do
            line=$(grep -n "^rename [^ ]*/\.elman-[^ ]* [^ ]*$out threads=" "$W/trace" | head -n 1)
            [[ -n $line ]] || { fail "$out: not renamed from a .elman- temporary: $(cat "$W/trace")"; continue; }
            n=${line%%:*}
            read -r _ temp _ threads <<<"${line#*:}"
            [[ $threads == threads=1 ]] ||
                fail "OPENBLAS_NUM_THREADS $blas: $threads at the rename of $out, not 1"
            head -n "$n" "$W/trace" | grep -qxF "fsync $(realpath -m "$W/s/$(basename "$temp")")" ||
                fail "$out: its temporary $temp was not synced before the rename: $(cat "$W/trace")"
            sed -n "$((n + 1))p" "$W/trace" | grep -qxF "fsync $(realpath "$W/s")" ||
                fail "$out: the directory was not synced after the rename: $(cat "$W/trace")"
        done
    done
    # --threads N gives the model N threads (its N - 1 workers live until
    # it is freed, after the renames); without it, 1: none is started.
    for threads in default 3; do
        setup
        opts=()
        [[ $threads != default ]] && opts=(--threads "$threads")
        traced OPENBLAS_NUM_THREADS=1 -- "${RUN[@]}" --output y.npy --hn hn.npy "${opts[@]}" ||
            fail "traced run (--threads $threads): exit $? ($(cat "$W/err"))"
        "$CMP" "$W/s/y.npy" "$D/basic.y.npy" || fail "traced run (--threads $threads): Y differs"
        want=threads=1
        [[ $threads != default ]] && want=threads=$threads
        [[ $(grep -c "^rename .* $want\$" "$W/trace") -eq 2 ]] ||
            fail "--threads $threads: not $want at both renames: $(cat "$W/trace")"
    done
    # A sync that fails (EIO): a write error, one line, the old Y untouched.
    setup
    cp "$W/s/old.npy" "$W/s/y.npy"
    before=$(snapshot)
    if traced ELMAN_TEST_FSYNC_ERRNO=5 -- "${RUN[@]}" --output y.npy --hn hn.npy; then
        fail "a failing fsync: the tool succeeded"
    fi
    [[ $(wc -l <"$W/err") -eq 1 ]] && grep -q 'y.npy: cannot write: Input/output error' "$W/err" ||
        fail "a failing fsync: stderr '$(cat "$W/err")'"
    [[ $(snapshot) == "$before" ]] || fail "a failing fsync: the directory changed"
    grep -q '^rename ' "$W/trace" && fail "a failing fsync: an output was renamed into place"
else
    echo "test_cli_fs: not traced (ELMAN_TEST_TRACE_PRELOAD unset)"
fi

# ---- concurrent runs writing the same Y: nothing lost, the file whole ----
setup
for i in 1 2 3 4 5 6 7 8; do
    (cd "$W/s" && "$ELMAN" "${RUN[@]}" --output y.npy --hn "hn$i.npy" 2>/dev/null) &
    # and one that fails while writing: it must not remove the others' Y
    if [[ -c /dev/full ]]; then
        (cd "$W/s" && "$ELMAN" "${RUN[@]}" --output y.npy --hn /dev/full 2>/dev/null) &
    fi
done
wait
runs=$((runs + 1))
"$CMP" "$W/s/y.npy" "$D/basic.y.npy" || fail "concurrent runs: Y lost or incomplete"
no_temporaries "concurrent runs"

finish test_cli_fs
