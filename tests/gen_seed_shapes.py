#!/usr/bin/python3
"""What examples/seed_shapes must print, computed by PyTorch's nn.RNN.

Run from the repository root with the system python that has torch:

    /usr/bin/python3 tests/gen_seed_shapes.py   # (re)write tests/data/example/seed_shapes.txt

The example draws its weights from a fixed-seed xorshift32 generator; this
script draws the same numbers (every operation of the example's uniform() is
exact in float32), builds nn.RNN(1, 4, batch_first=True) with them, runs the
question's input sin(linspace(0, 6, 3)) and a batch of two sequences of
lengths 3 and 2 (pack_padded_sequence -> nn.RNN -> pad_packed_sequence), and
prints the lines the example prints, in the example's format. The "==" and
"!=" lines are decided from PyTorch's own tensors.

tests/test_example.sh compares the example's output with this file (text
exact, numbers within 2e-6: the last printed digit may round the other way)
and with the block that README.md shows.
"""

import math
import os

import numpy as np
import torch

INPUT, HIDDEN, SEQ = 1, 4, 3


def xorshift_uniform(state, bound):
    s = state[0]
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    state[0] = s
    v = np.float32(s >> 8) / np.float32(16777216.0)
    return (v * np.float32(2.0) - np.float32(1.0)) * np.float32(bound)


def vec(label, v):
    body = ", ".join("% .6f" % float(x) for x in v)
    return "%-22s [%s]" % (label, body)


def rel(a, b):
    return "==" if torch.equal(a, b) else "!="


def main():
    torch.set_num_threads(1)
    state = [2020]
    bound = np.float32(1.0) / np.float32(math.sqrt(HIDDEN))
    w_ih = [xorshift_uniform(state, bound) for _ in range(HIDDEN * INPUT)]
    w_hh = [xorshift_uniform(state, bound) for _ in range(HIDDEN * HIDDEN)]
    b_ih = [xorshift_uniform(state, bound) for _ in range(HIDDEN)]
    b_hh = [xorshift_uniform(state, bound) for _ in range(HIDDEN)]

    rnn = torch.nn.RNN(INPUT, HIDDEN, num_layers=1, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(np.array(w_ih, np.float32).reshape(HIDDEN, INPUT)))
        rnn.weight_hh_l0.copy_(torch.tensor(np.array(w_hh, np.float32).reshape(HIDDEN, HIDDEN)))
        rnn.bias_ih_l0.copy_(torch.tensor(np.array(b_ih, np.float32)))
        rnn.bias_hh_l0.copy_(torch.tensor(np.array(b_hh, np.float32)))

    # sinf(6 t / (SEQ - 1)) in float32, as the example computes it.
    x = np.array([math.sin(np.float32(6.0 * t / (SEQ - 1))) for t in range(SEQ)], np.float32)
    lines = []
    with torch.no_grad():
        out, h_n = rnn(torch.tensor(x).reshape(1, SEQ, INPUT))
        lines += ["Input size:  [1, %d, %d]" % (SEQ, INPUT),
                  "Hidden state size:  [%d, %d, %d]" % tuple(h_n.shape),
                  "Output size:  [%d, %d, %d]" % tuple(out.shape),
                  "",
                  "output holds one hidden state per time step:"]
        for t in range(SEQ):
            lines.append(vec("output[0, %d, :]" % t, out[0, t]))
        lines.append("h_n holds only the last one:")
        lines.append(vec("h_n[0, 0, :]", h_n[0, 0]))
        lines.append("output[:, -1, :] %s h_n[-1]" % rel(out[:, -1, :], h_n[-1]))

        xb = torch.zeros(2, SEQ, INPUT)
        xb[0, :, 0] = torch.tensor(x)
        xb[1, :2, 0] = torch.tensor(x[:2])
        lengths = torch.tensor([3, 2])
        packed = torch.nn.utils.rnn.pack_padded_sequence(xb, lengths, batch_first=True,
                                                         enforce_sorted=False)
        outp, h_nb = rnn(packed)
        outb, _ = torch.nn.utils.rnn.pad_packed_sequence(outp, batch_first=True,
                                                         total_length=SEQ)
        lines += ["",
                  "A batch of two sequences, lengths 3 and 2: output [%d, %d, %d], h_n [%d, %d, %d]"
                  % (tuple(outb.shape) + tuple(h_nb.shape)),
                  vec("output[1, 1, :]", outb[1, 1]),
                  vec("output[1, -1, :]", outb[1, -1]),
                  vec("h_n[0, 1, :]", h_nb[0, 1]),
                  "h_n[0, 1, :] %s output[1, 1, :] (its last real step, t = 1)"
                  % rel(h_nb[0, 1], outb[1, 1]),
                  "h_n[0, 1, :] %s output[1, -1, :] (zero padding)" % rel(h_nb[0, 1], outb[1, -1]),
                  "The first sequence is full length: h_n[0, 0, :] %s output[0, -1, :]"
                  % rel(h_nb[0, 0], outb[0, -1])]

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "example",
                        "seed_shapes.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
