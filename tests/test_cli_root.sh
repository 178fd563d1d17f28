#!/usr/bin/env bash
# The elman tool and the file system, the cases that need root: an output
# that is a device node made with mknod (written in place, never replaced),
# and a full file system (a 64 KiB tmpfs): the failure is one line, no
# temporary is left, an earlier result stays whole. Skipped (exit 77) with
# the reason when not root or when tmpfs cannot be mounted.
#
# usage: test_cli_root.sh ELMAN NPY_COMPARE DATA_DIR
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
if [[ $(id -u) -ne 0 ]]; then
    echo "test_cli_root: skipped: needs root (mknod, mount -t tmpfs)"
    exit 77
fi
cli_cleanup() {
    mountpoint -q "$W/full" && umount "$W/full"
    rm -rf "$W"
}
RUN=(run --weights "$D/basic.safetensors" --input "$D/basic.x.npy")

# ---- a device node as output: written in place, still a device ----
mknod "$W/null" c 1 3
for hn in "" "$W/null"; do # the same device may take both outputs
    runs=$((runs + 1))
    "$ELMAN" "${RUN[@]}" --output "$W/null" ${hn:+--hn "$hn"} 2>"$W/err" ||
        fail "--output onto a device node: $(cat "$W/err")"
    [[ -c $W/null && $(stat -c '%t:%T' "$W/null") == 1:3 ]] || fail "the device node was replaced"
    [[ -z $(find "$W" -name '.elman-*') ]] || fail "device output: temporaries left"
done

# ---- a full file system ----
mkdir "$W/full"
if ! mount -t tmpfs -o size=64k tmpfs "$W/full" 2>"$W/err"; then
    echo "test_cli_root: the full-file-system case is skipped: mount failed: $(cat "$W/err")"
    [[ $fails -eq 0 ]] && exit 77
    exit 1
fi
# Y of 200 x 64 x 4 float32 (200 KiB) cannot fit; an earlier y.npy stays.
if ! /usr/bin/python3 -c 'import numpy as np, sys
np.save(sys.argv[1], np.ones((200, 64, 3), np.float32))' "$W/x.npy"; then
    echo "test_cli_root: the full-file-system case is skipped: no numpy in /usr/bin/python3"
    [[ $fails -eq 0 ]] && exit 77
    exit 1
fi
printf 'an earlier result\n' >"$W/full/y.npy"
for out in y.npy new.npy; do
    runs=$((runs + 1))
    before=$(cd "$W/full" && ls -A && md5sum y.npy)
    "$ELMAN" run --weights "$D/basic.safetensors" --input "$W/x.npy" --output "$W/full/$out" \
        --hn "$W/full/hn.npy" 2>"$W/err"
    rc=$?
    after=$(cd "$W/full" && ls -A && md5sum y.npy)
    [[ $rc -eq 1 && $(wc -l <"$W/err") -eq 1 ]] && grep -q "No space left on device" "$W/err" ||
        fail "full file system ($out): exit $rc, $(cat "$W/err")"
    [[ $before == "$after" ]] || fail "full file system ($out): the directory changed: $after"
done

finish test_cli_root
