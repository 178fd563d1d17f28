#!/usr/bin/python3
"""Writes a random float32 nn.RNN as safetensors, and an input X, with numpy
only (no torch): for the tool's tests that need a model of a given size
(test_cli_fs.sh: a run long enough to be killed; test_cli_limits.sh: peak
RSS on a model of tens of MB).

usage: make_rnn_model.py OUT I H L T B [SEED]
writes OUT.safetensors (weight_ih_lK, weight_hh_lK, bias_ih_lK, bias_hh_lK)
and OUT.x.npy (T, B, I); prints the byte sizes of the tensors' data, X,
Y (T, B, H) and HN (L, B, H) in float32.
"""
import json
import struct
import sys

import numpy as np


def main(argv):
    out = argv[1]
    I, H, L, T, B = (int(v) for v in argv[2:7])
    rng = np.random.default_rng(int(argv[7]) if len(argv) > 7 else 1)
    scale = 1.0 / np.sqrt(H)
    tensors = {}
    for l in range(L):
        tensors[f"weight_ih_l{l}"] = rng.uniform(-scale, scale, (H, I if l == 0 else H))
        tensors[f"weight_hh_l{l}"] = rng.uniform(-scale, scale, (H, H))
        tensors[f"bias_ih_l{l}"] = rng.uniform(-scale, scale, H)
        tensors[f"bias_hh_l{l}"] = rng.uniform(-scale, scale, H)
    header, offset = {}, 0
    for name, v in tensors.items():
        n = v.size * 4
        header[name] = {"dtype": "F32", "shape": list(v.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(out + ".safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for v in tensors.values():
            f.write(v.astype("<f4").tobytes())
    np.save(out + ".x.npy", rng.standard_normal((T, B, I)).astype(np.float32))
    print(offset, T * B * I * 4, T * B * H * 4, L * B * H * 4)


if __name__ == "__main__":
    main(sys.argv)
