#!/usr/bin/python3
"""A large float32 nn.RNN in safetensors, with numpy only (no torch), for
tests/test_io_memory.sh:

    gen_big_model.py DIR INPUT_SIZE HIDDEN_SIZE NUM_LAYERS

writes DIR/m.safetensors (random weights, two biases, unidirectional) and
DIR/x.npy (T=4, B=2, float32). The values do not matter, only the sizes.
"""
import json
import os
import struct
import sys

import numpy as np


def main():
    out, inp, hid, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(1)
    shapes = []
    for l in range(layers):
        shapes += [("weight_ih_l%d" % l, (hid, inp if l == 0 else hid)),
                   ("weight_hh_l%d" % l, (hid, hid)),
                   ("bias_ih_l%d" % l, (hid,)), ("bias_hh_l%d" % l, (hid,))]
    header, pos = {}, 0
    for name, shape in shapes:
        n = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + n]}
        pos += n
    text = json.dumps(header).encode()
    with open(os.path.join(out, "m.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name, shape in shapes:  # one tensor at a time: little memory here too
            a = rng.uniform(-0.05, 0.05, size=shape).astype("<f4")
            f.write(a.tobytes())
    np.save(os.path.join(out, "x.npy"), rng.standard_normal((4, 2, inp)).astype("<f4"))


if __name__ == "__main__":
    main()
