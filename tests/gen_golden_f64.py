#!/usr/bin/python3
"""Generate float64 golden data for elman from PyTorch's nn.RNN in double.

Run from the repository root with the system python that has torch:

    /usr/bin/python3 tests/gen_golden_f64.py

Writes tests/data/golden_f64/ in the format of tests/gen_golden.py (see
tests/golden.h) with the header's last field, dtype, set to 1: every real
is a little-endian float64. Deterministic: each case seeds torch from its
name.
"""

import argparse
import os
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "data", "golden_f64")

# name, I, H, L, nonlinearity, bias, batch_first, bidirectional, B, T,
# unbatched, lengths, h0
CASES = [
    ("f64_l1_uni_tanh_tf", 3, 5, 1, "tanh", True, False, False, 2, 4, False, None, False),
    ("f64_l2_bi_relu_bf_h0_len", 4, 6, 2, "relu", True, True, True, 3, 5, False, [2, 5, 1], True),
    ("f64_l3_uni_tanh_tf_nobias_h0", 2, 7, 3, "tanh", False, False, False, 4, 6, False, None, True),
    ("f64_l1_bi_tanh_tf_len", 5, 4, 1, "tanh", True, False, True, 4, 6, False, [6, 3, 4, 1], False),
    ("f64_unb_l2_bi_tanh_h0", 3, 5, 2, "tanh", True, False, True, 1, 5, True, None, True),
    ("f64_l2_uni_relu_bf_len_h0", 3, 33, 2, "relu", True, True, False, 5, 7, False, [7, 1, 4, 7, 2], True),
]


def f64(a):
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def i32(a):
    return np.ascontiguousarray(a, dtype="<i4").tobytes()


def generate(case):
    name, I, H, L, nl, bias, bf, bi, B, T, unb, lengths, has_h0 = case
    torch.manual_seed(zlib.crc32(name.encode("ascii")))
    D = 2 if bi else 1
    rnn = torch.nn.RNN(I, H, L, nonlinearity=nl, bias=bias, batch_first=bf,
                       bidirectional=bi).double().eval()
    if unb:
        x = torch.randn(T, I, dtype=torch.float64)
        h0 = torch.randn(L * D, H, dtype=torch.float64) if has_h0 else None
    else:
        x = torch.randn(*((B, T, I) if bf else (T, B, I)), dtype=torch.float64)
        h0 = torch.randn(L * D, B, H, dtype=torch.float64) if has_h0 else None
    with torch.no_grad():
        if lengths is None:
            out, h_n = rnn(x, h0)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf,
                                          enforce_sorted=False)
            out_p, h_n = rnn(packed, h0)
            out, _ = pad_packed_sequence(out_p, batch_first=bf, total_length=T)
    assert out.dtype == torch.float64 and h_n.dtype == torch.float64
    blob = bytearray(b"ELMANGLD")
    blob += i32([1, I, H, L, 1 if nl == "relu" else 0, int(bias), int(bf), int(bi), B, T,
                 int(unb), int(lengths is not None), int(h0 is not None), 1])
    for l in range(L):
        for d in range(D):
            sfx = "_reverse" if d == 1 else ""
            names = ["weight_ih_l%d" % l, "weight_hh_l%d" % l]
            if bias:
                names += ["bias_ih_l%d" % l, "bias_hh_l%d" % l]
            for n in names:
                blob += f64(getattr(rnn, n + sfx).detach().numpy())
    blob += f64(x.numpy())
    if lengths is not None:
        blob += i32(lengths)
    if h0 is not None:
        blob += f64(h0.numpy())
    blob += f64(out.numpy())
    blob += f64(h_n.numpy())
    return bytes(blob)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=OUT_DIR,
                   help="directory to write (default: %(default)s)")
    out_dir = p.parse_args().out
    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    names = []
    for case in CASES:
        with open(os.path.join(out_dir, case[0] + ".bin"), "wb") as f:
            f.write(generate(case))
        names.append(case[0] + ".bin")
    with open(os.path.join(out_dir, "index.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print("wrote %d float64 cases to %s" % (len(names), out_dir))


if __name__ == "__main__":
    main()
