#!/usr/bin/python3
"""Generate golden reference data for elman from PyTorch's nn.RNN.

Run from the repository root with the system python that has torch:

    /usr/bin/python3 tests/gen_golden.py            # (re)write tests/data/golden/
    /usr/bin/python3 tests/gen_golden.py --check    # also re-read every file and
                                                    # check it against a float64
                                                    # numpy reference

Output is deterministic: every case seeds torch with a fixed seed derived from
its name (crc32, not Python's salted hash()), torch runs single-threaded, and
the files are written with explicit little-endian dtypes.

File format (all little-endian), see tests/golden.h:
    8 bytes  magic "ELMANGLD"
    14 int32 version(=1), input_size, hidden_size, num_layers, nonlinearity
             (0 tanh, 1 relu), bias, batch_first, bidirectional, batch,
             seq_len, unbatched, has_lengths, has_h0, reserved(=0)
    float32  for l in 0..L-1, for d in 0..D-1 (d=1 -> the *_reverse tensors):
             weight_ih_l{l} (H x I_l), weight_hh_l{l} (H x H),
             then if bias: bias_ih_l{l} (H), bias_hh_l{l} (H)
    float32  x, B*T*I, (B,T,I) if batch_first else (T,B,I); unbatched: (T,I)
    int32    lengths, B values            (only if has_lengths)
    float32  h0, L*D*B*H                  (only if has_h0)
    float32  expected output, B*T*D*H, same layout convention as x
    float32  expected h_n, L*D*B*H
"""

import argparse
import os
import sys
import zlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

MAGIC = b"ELMANGLD"
VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "data", "golden")


def case(name, I, H, L=1, nl="tanh", bias=True, bf=False, bi=False, B=3, T=5,
         unbatched=False, lengths=None, h0=False, x=None):
    """Describe one case. `x`, if given, is a fixed input array (seed config)."""
    if unbatched:
        assert B == 1 and lengths is None
    if lengths is not None:
        assert len(lengths) == B and max(lengths) <= T and min(lengths) >= 1
    return dict(name=name, I=I, H=H, L=L, nl=nl, bias=bias, bf=bf, bi=bi, B=B,
                T=T, unbatched=unbatched, lengths=lengths, h0=h0, x=x)


def build_cases():
    cases = []

    # The seed config: the quick-start example.
    seed_x = np.sin(np.linspace(0, 6, 3)).astype(np.float32).reshape(1, 3, 1)
    cases.append(case("seed_i1_h4_bf.bin", I=1, H=4, L=1, bf=True, B=1, T=3,
                      x=seed_x))

    # Main grid: layers x direction x nonlinearity x batch_first x lengths.
    # h0 and bias are toggled so that, for every (layers, direction), all of
    # {h0 given/absent} x {bias on/off} x {lengths on/off} x nonlinearity
    # appear:  h0 = bf XOR bi,  nobias = bf XOR len XOR relu.
    # Lengths are unsorted and include 1 and the full length T.
    I, H, B, T = 5, 7, 4, 6
    grid_lengths = [3, 6, 1, 5]
    for L in (1, 2, 3):
        for bi in (False, True):
            for nl in ("tanh", "relu"):
                for bf in (False, True):
                    for use_len in (False, True):
                        h0 = bf != bi
                        bias = not (bf ^ use_len ^ (nl == "relu"))
                        parts = ["l%d" % L, "bi" if bi else "uni", nl,
                                 "bf" if bf else "tf"]
                        if not bias:
                            parts.append("nobias")
                        if h0:
                            parts.append("h0")
                        if use_len:
                            parts.append("len")
                        cases.append(case("_".join(parts) + ".bin", I=I, H=H,
                                          L=L, nl=nl, bias=bias, bf=bf, bi=bi,
                                          B=B, T=T, h0=h0,
                                          lengths=grid_lengths if use_len else None))

    # Lengths edge cases.
    cases.append(case("l1_uni_tanh_tf_len_all_full.bin", I=4, H=6, B=3, T=5,
                      lengths=[5, 5, 5]))
    cases.append(case("l2_bi_tanh_bf_h0_len_all_equal_short.bin", I=4, H=6, L=2,
                      bi=True, bf=True, B=3, T=5, h0=True, lengths=[2, 2, 2]))
    cases.append(case("l2_bi_relu_tf_len_all_ones.bin", I=4, H=6, L=2, bi=True,
                      nl="relu", B=3, T=4, lengths=[1, 1, 1]))
    cases.append(case("l1_bi_tanh_bf_len_ascending.bin", I=3, H=5, bi=True,
                      bf=True, B=5, T=7, lengths=[1, 2, 4, 6, 7]))
    cases.append(case("l3_bi_tanh_tf_h0_len_b6.bin", I=3, H=5, L=3, bi=True,
                      B=6, T=8, h0=True, lengths=[8, 2, 5, 1, 8, 3]))

    # Unbatched: x (T, I), h0 (L*D, H); batch_first must not matter.
    cases.append(case("unb_l1_uni_tanh_tf.bin", I=3, H=5, B=1, T=6,
                      unbatched=True))
    cases.append(case("unb_l1_uni_tanh_bf_h0.bin", I=3, H=5, B=1, T=6,
                      bf=True, unbatched=True, h0=True))
    cases.append(case("unb_l2_bi_relu_tf_h0.bin", I=3, H=5, L=2, bi=True,
                      nl="relu", B=1, T=6, unbatched=True, h0=True))
    cases.append(case("unb_l2_bi_tanh_bf.bin", I=3, H=5, L=2, bi=True, bf=True,
                      B=1, T=6, unbatched=True))
    cases.append(case("unb_l3_uni_relu_bf_nobias_h0.bin", I=3, H=5, L=3,
                      nl="relu", bias=False, bf=True, B=1, T=6, unbatched=True,
                      h0=True))

    # Odd sizes.
    cases.append(case("l1_uni_tanh_tf_h1.bin", I=4, H=1, B=3, T=5, h0=True))
    cases.append(case("l1_uni_relu_bf_h1_h0.bin", I=4, H=1, nl="relu",
                      bf=True, B=3, T=5, h0=True))
    cases.append(case("l2_bi_tanh_bf_h1_len.bin", I=4, H=1, L=2, bi=True,
                      bf=True, B=3, T=5, lengths=[2, 5, 1]))
    cases.append(case("l1_uni_relu_bf_i1.bin", I=1, H=6, nl="relu", bf=True,
                      B=3, T=5))
    cases.append(case("l2_bi_tanh_tf_i1_h0.bin", I=1, H=6, L=2, bi=True, B=3,
                      T=5, h0=True))
    cases.append(case("l1_uni_tanh_bf_h300.bin", I=10, H=300, bf=True, B=3,
                      T=5, h0=True))
    cases.append(case("l2_bi_tanh_tf_h300_len.bin", I=10, H=300, L=2, bi=True,
                      B=3, T=5, lengths=[4, 5, 1]))
    cases.append(case("l2_bi_relu_bf_h300_h0.bin", I=7, H=300, L=2, bi=True,
                      nl="relu", bf=True, B=3, T=5, h0=True))
    cases.append(case("l2_uni_tanh_tf_b1.bin", I=4, H=6, L=2, B=1, T=5))
    cases.append(case("l1_bi_relu_bf_b1_h0_len.bin", I=4, H=6, bi=True,
                      nl="relu", bf=True, B=1, T=5, h0=True, lengths=[3]))
    cases.append(case("l2_bi_tanh_tf_t1_h0.bin", I=4, H=6, L=2, bi=True, B=3,
                      T=1, h0=True))
    cases.append(case("l1_uni_relu_bf_t1_len.bin", I=4, H=6, nl="relu",
                      bf=True, B=3, T=1, lengths=[1, 1, 1]))
    cases.append(case("l1_uni_tanh_bf_b1_t1_i1_h1.bin", I=1, H=1, bf=True, B=1,
                      T=1, h0=True))
    cases.append(case("l3_bi_relu_bf_nobias_long.bin", I=6, H=8, L=3, bi=True,
                      nl="relu", bias=False, bf=True, B=2, T=40))

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


def f32(a):
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def i32(a):
    return np.ascontiguousarray(a, dtype="<i4").tobytes()


def generate(c):
    torch.manual_seed(zlib.crc32(c["name"].encode("ascii")))
    I, H, L, B, T = c["I"], c["H"], c["L"], c["B"], c["T"]
    D = 2 if c["bi"] else 1
    bf = c["bf"]
    rnn = torch.nn.RNN(I, H, L, nonlinearity=c["nl"], bias=c["bias"],
                       batch_first=bf, bidirectional=c["bi"]).float().eval()

    if c["x"] is not None:
        x = torch.from_numpy(np.array(c["x"], dtype=np.float32))
    elif c["unbatched"]:
        x = torch.randn(T, I)
    elif bf:
        x = torch.randn(B, T, I)
    else:
        x = torch.randn(T, B, I)
    if c["unbatched"]:
        h0 = torch.randn(L * D, H) if c["h0"] else None
    else:
        h0 = torch.randn(L * D, B, H) if c["h0"] else None

    with torch.no_grad():
        if c["lengths"] is None:
            out, h_n = rnn(x, h0)
        else:
            lens = torch.tensor(c["lengths"], dtype=torch.int64)
            packed = pack_padded_sequence(x, lens, batch_first=bf,
                                          enforce_sorted=False)
            out_p, h_n = rnn(packed, h0)
            out, _ = pad_packed_sequence(out_p, batch_first=bf, total_length=T)

    # Shape checks (unbatched tensors are the batch=1 layout with the batch
    # dimension squeezed away, so their bytes are identical).
    xshape = (T, I) if c["unbatched"] else ((B, T, I) if bf else (T, B, I))
    oshape = (T, D * H) if c["unbatched"] else ((B, T, D * H) if bf else (T, B, D * H))
    hshape = (L * D, H) if c["unbatched"] else (L * D, B, H)
    assert tuple(x.shape) == xshape, (x.shape, xshape)
    assert tuple(out.shape) == oshape, (out.shape, oshape)
    assert tuple(h_n.shape) == hshape, (h_n.shape, hshape)
    assert torch.isfinite(out).all() and torch.isfinite(h_n).all()

    blob = bytearray(MAGIC)
    blob += i32([VERSION, I, H, L, 1 if c["nl"] == "relu" else 0,
                 int(c["bias"]), int(bf), int(c["bi"]), B, T,
                 int(c["unbatched"]), int(c["lengths"] is not None),
                 int(h0 is not None), 0])
    for l in range(L):
        for d in range(D):
            sfx = "_reverse" if d == 1 else ""
            names = ["weight_ih_l%d" % l, "weight_hh_l%d" % l]
            if c["bias"]:
                names += ["bias_ih_l%d" % l, "bias_hh_l%d" % l]
            for n in names:
                blob += f32(getattr(rnn, n + sfx).detach().numpy())
    blob += f32(x.numpy())
    if c["lengths"] is not None:
        blob += i32(c["lengths"])
    if h0 is not None:
        blob += f32(h0.numpy())
    blob += f32(out.numpy())
    blob += f32(h_n.numpy())
    return bytes(blob)


# ----------------------------------------------------------------------------
# Independent read-back + float64 reference (used by --check).

def read_golden(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC
    hdr = np.frombuffer(data, "<i4", 14, 8)
    (ver, I, H, L, nl, bias, bf, bi, B, T, unb, has_len, has_h0, _r) = map(int, hdr)
    assert ver == VERSION
    D = 2 if bi else 1
    pos = 8 + 14 * 4

    def take(n, dt="<f4"):
        nonlocal pos
        a = np.frombuffer(data, dt, n, pos)
        pos += 4 * n
        return a

    W = {}
    for l in range(L):
        Il = I if l == 0 else D * H
        for d in range(D):
            wih = take(H * Il).reshape(H, Il)
            whh = take(H * H).reshape(H, H)
            bih = take(H) if bias else np.zeros(H, np.float32)
            bhh = take(H) if bias else np.zeros(H, np.float32)
            W[l, d] = (wih, whh, bih, bhh)
    x = take(B * T * I)
    lens = take(B, "<i4") if has_len else None
    h0 = take(L * D * B * H).reshape(L * D, B, H) if has_h0 else None
    out = take(B * T * D * H)
    h_n = take(L * D * B * H).reshape(L * D, B, H)
    assert pos == len(data), (pos, len(data))
    x = x.reshape((B, T, I) if bf else (T, B, I))
    out = out.reshape((B, T, D * H) if bf else (T, B, D * H))
    if bf:
        x = x.transpose(1, 0, 2)
        out = out.transpose(1, 0, 2)
    return dict(I=I, H=H, L=L, nl=nl, D=D, B=B, T=T, x=x, lens=lens, h0=h0,
                W=W, out=out, h_n=h_n)


def reference(g):
    """float64 Elman RNN; x is (T, B, I). Returns out (T, B, D*H), h_n."""
    T, B, H, D, L = g["T"], g["B"], g["H"], g["D"], g["L"]
    act = (lambda v: np.maximum(v, 0.0)) if g["nl"] == 1 else np.tanh
    lens = g["lens"] if g["lens"] is not None else np.full(B, T)
    inp = g["x"].astype(np.float64)
    h_n = np.zeros((L * D, B, H))
    for l in range(L):
        layer_out = np.zeros((T, B, D * H))
        for d in range(D):
            wih, whh, bih, bhh = (a.astype(np.float64) for a in g["W"][l, d])
            for b in range(B):
                h = (g["h0"][l * D + d, b].astype(np.float64)
                     if g["h0"] is not None else np.zeros(H))
                steps = range(lens[b]) if d == 0 else range(lens[b] - 1, -1, -1)
                for t in steps:
                    h = act(wih @ inp[t, b] + bih + whh @ h + bhh)
                    layer_out[t, b, d * H:(d + 1) * H] = h
                h_n[l * D + d, b] = h
        inp = layer_out
    return inp, h_n


def check_file(path):
    g = read_golden(path)
    out, h_n = reference(g)
    e1 = np.max(np.abs(out - g["out"])) if out.size else 0.0
    e2 = np.max(np.abs(h_n - g["h_n"]))
    scale = max(1.0, np.max(np.abs(out)), np.max(np.abs(h_n)))
    assert e1 <= 1e-4 * scale and e2 <= 1e-4 * scale, (path, e1, e2, scale)
    # For unidirectional models, the last layer's h_n is the output at each
    # sequence's last valid step (exactly, same float32 values).
    if g["D"] == 1:
        lens = g["lens"] if g["lens"] is not None else np.full(g["B"], g["T"])
        for b in range(g["B"]):
            assert np.array_equal(g["out"][lens[b] - 1, b], g["h_n"][-1, b]), path
    else:
        # Bidirectional: forward half at the last valid step, reverse half at t=0.
        lens = g["lens"] if g["lens"] is not None else np.full(g["B"], g["T"])
        H = g["H"]
        for b in range(g["B"]):
            assert np.array_equal(g["out"][lens[b] - 1, b, :H], g["h_n"][-2, b]), path
            assert np.array_equal(g["out"][0, b, H:], g["h_n"][-1, b]), path
    # Padded positions are exactly zero.
    if g["lens"] is not None:
        for b in range(g["B"]):
            assert not g["out"][g["lens"][b]:, b].any(), path
    return max(e1, e2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory")
    ap.add_argument("--check", action="store_true",
                    help="re-read the files and check them against a numpy reference")
    args = ap.parse_args()

    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    cases = build_cases()
    total = 0
    for c in cases:
        blob = generate(c)
        with open(os.path.join(args.out, c["name"]), "wb") as f:
            f.write(blob)
        total += len(blob)
    with open(os.path.join(args.out, "index.txt"), "w", newline="\n") as f:
        for c in cases:
            f.write(c["name"] + "\n")
    print("wrote %d cases, %d bytes, to %s" % (len(cases), total, args.out))

    if args.check:
        worst = 0.0
        for c in cases:
            worst = max(worst, check_file(os.path.join(args.out, c["name"])))
        print("check ok: max |torch - float64 reference| = %.3g" % worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
