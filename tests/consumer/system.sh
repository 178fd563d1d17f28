#!/bin/sh
# Uses elman as installed by its Debian packages (libelman-dev, elman-tools),
# as a user with no source tree at hand would: builds the two consumer
# projects against the system install (find_package with no hint, and
# pkg-config with no PKG_CONFIG_PATH), runs `elman-export` and `elman` from
# PATH on a small model (checking elman's output against PyTorch's when
# /usr/bin/python3 has torch), and finds the man pages with man -w.
#
# Usage: tests/consumer/system.sh <scratch directory>
set -eu

work=$1
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH

echo "== consumers against the system's elman"
pkg-config --modversion elman elman_io
cmake -S "$here/find_package" -B "$work/find_package" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
cmake --build "$work/find_package"
ldd "$work/find_package/consumer" | grep -Eq "libelman\.so\.1 => /(usr/)?lib/" ||
    { echo "FAIL: find_package consumer does not load the system libelman.so.1"; exit 1; }
"$work/find_package/consumer"
"$work/find_package/consumer_io" "$work"
mkdir -p "$work/pkg_config"
(cd "$work/pkg_config" && make -f "$here/pkg_config/Makefile")
"$work/pkg_config/consumer"
"$work/pkg_config/consumer_io" "$work"

echo "== the tools from PATH"
elman_bin=$(command -v elman)
export_bin=$(command -v elman-export)
echo "elman: $elman_bin; elman-export: $export_bin"
case "$elman_bin" in /usr/bin/elman) ;; *) echo "FAIL: elman is not /usr/bin/elman"; exit 1 ;; esac
elman --version
elman-export --help >/dev/null
man -w elman
man -w elman-export

if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
    cd "$work"
    /usr/bin/python3 - <<'PYEOF'
import numpy as np, torch
torch.manual_seed(3)
rnn = torch.nn.RNN(4, 6, num_layers=2, batch_first=True).eval()
torch.save(rnn, "model.pt")
x = torch.randn(3, 5, 4)
with torch.no_grad():
    y, _ = rnn(x)
np.save("x.npy", x.numpy())
np.save("y_ref.npy", y.numpy())
PYEOF
    elman-export model.pt model.safetensors
    elman info model.safetensors
    elman run --weights model.safetensors --input x.npy --output y.npy
    /usr/bin/python3 -c 'import numpy as np, sys
y, r = np.load("y.npy"), np.load("y_ref.npy")
print("max |elman - PyTorch| =", float(np.abs(y - r).max()))
sys.exit(0 if y.shape == r.shape and np.allclose(y, r, rtol=1e-4, atol=2e-5) else 1)'
    # The installed module, from Python, with no source tree.
    PYTHONPATH=/usr/share/elman/python /usr/bin/python3 -c 'import export_pytorch, torch
export_pytorch.export(torch.nn.RNN(2, 3), "m2.safetensors")'
    elman info m2.safetensors >/dev/null
else
    # No torch: the tool alone, on a model of the test data if present.
    echo "(no torch in /usr/bin/python3: elman-export not run on a model)"
    elman-export model.pt model.safetensors 2>&1 | grep -q python3-torch
fi
echo "== the system install works"
