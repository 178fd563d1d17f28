#!/usr/bin/python3
"""Randomized differential test: `elman run` against live PyTorch.

Each case draws a fresh random nn.RNN configuration (input and hidden
sizes, 1-3 layers, tanh/relu, bias or not, bidirectional or not,
batch_first or not, the RNN alone or inside a module under a prefix, the
prefix given or detected, float32/float64/float16/bfloat16 weights,
metadata or command-line flags, flags overriding the metadata) and input
(batched or unbatched, float32 or float64, with or without h0, with or
without per-sequence lengths), and some of the options beyond nn.RNN where
PyTorch is still the reference (--dtype float64, --state-batch-first,
--chunk, --threads, --deterministic, --direction forward/bidirectional,
--activation Tanh/Relu), exports the model with tools/export_pytorch.py,
runs `elman run`, and compares Y and HN with PyTorch's output within
2e-5 + 1e-4 * |expected| (float32), or with PyTorch's float64 model within
1e-10 * (1 + |expected|) (--dtype float64).

    /usr/bin/python3 tests/diff_pytorch.py build/elman --cases 300
    /usr/bin/python3 tests/diff_pytorch.py build/elman --seed 1234 --cases 1   # replay

It prints its seed first; case k uses seed + k, so a failing case is
replayed alone with --seed (seed + k) --cases 1 --keep DIR (DIR keeps the
files). Exits 77 (skipped) when torch cannot be imported, 1 on any
mismatch.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
except ImportError as e:  # pragma: no cover
    print("diff_pytorch: SKIP: %s" % e)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import export_pytorch  # noqa: E402

ATOL, RTOL = 2e-5, 1e-4
F64_TOL = 1e-10
DTYPES = {"float32": torch.float32, "float64": torch.float64,
          "float16": torch.float16, "bfloat16": torch.bfloat16}


class Holder(torch.nn.Module):
    def __init__(self, rnn, path):
        super().__init__()
        self.head = torch.nn.Linear(rnn.hidden_size, 3)
        parent = self
        parts = path.split(".")
        for p in parts[:-1]:
            sub = torch.nn.Module()
            setattr(parent, p, sub)
            parent = sub
        setattr(parent, parts[-1], rnn)


def draw(r):
    c = dict(I=r.randint(1, 8), H=r.randint(1, 12), L=r.randint(1, 3),
             nl=r.choice(["tanh", "relu"]), bias=r.random() < 0.75,
             bf=r.random() < 0.5, bi=r.random() < 0.5,
             unbatched=r.random() < 0.2, B=r.randint(1, 5), T=r.randint(1, 8),
             h0=r.random() < 0.5, x64=r.random() < 0.25,
             dtype=r.choices(list(DTYPES), [70, 10, 10, 10])[0],
             container=r.choice([None, None, "rnn", "encoder.rnn"]),
             give_prefix=r.random() < 0.5, metadata=r.random() < 0.85,
             override=r.random() < 0.25, len_i32=r.random() < 0.5)
    if c["unbatched"]:
        c["B"] = 1
    c["lengths"] = None
    if not c["unbatched"] and r.random() < 0.5:
        c["lengths"] = [r.randint(1, c["T"]) for _ in range(c["B"])]
    # Options beyond nn.RNN that PyTorch can still check.
    c.update(run64=r.random() < 0.25, sbf=r.random() < 0.25, det=r.random() < 0.2,
             threads=r.choice([None, None, None, 1, 2, 3]), force_threads=r.random() < 0.5,
             direction=r.random() < 0.2, activation=r.random() < 0.15)
    c["chunk"] = None
    if not c["bi"] and r.random() < 0.3:
        c["chunk"] = r.randint(1, c["T"] + 1)
    return c


def onnx_name(r, nl):
    """tanh/relu as ONNX names, in a random case."""
    name = {"tanh": "Tanh", "relu": "Relu"}[nl]
    return r.choice([name, name.lower(), name.upper()])


def run_case(elman, seed, work):
    r = random.Random(seed)
    c = draw(r)
    torch.manual_seed(seed)
    D = 2 if c["bi"] else 1
    # What the file says, and what the command line says.
    meta_nl, meta_bf = c["nl"], c["bf"]
    flags = []
    if c["override"]:
        meta_nl = "relu" if c["nl"] == "tanh" else "tanh"
        meta_bf = not c["bf"]
    if not c["metadata"] or c["override"]:
        if c["nl"] != "tanh" or c["override"] or r.random() < 0.5:
            flags += ["--nonlinearity", c["nl"]]
        if c["bf"] or c["override"] or r.random() < 0.5:
            flags += ["--batch-first" if c["bf"] else "--seq-first"]
    rnn = torch.nn.RNN(c["I"], c["H"], c["L"], nonlinearity=meta_nl, bias=c["bias"],
                       batch_first=meta_bf, bidirectional=c["bi"])
    module = rnn if c["container"] is None else Holder(rnn, c["container"])
    path = os.path.join(work, "m.safetensors")
    if c["metadata"]:
        export_pytorch.export(module, path, dtype=c["dtype"])
    else:
        state = {k: v.to(DTYPES[c["dtype"]]) for k, v in module.state_dict().items()}
        export_pytorch.write_safetensors(path, state, None)
    if c["container"] and c["give_prefix"]:
        flags += ["--prefix", c["container"] + r.choice([".", ""])]

    if c["activation"]:
        # --activation overrides the metadata and --nonlinearity.
        while "--nonlinearity" in flags:
            i = flags.index("--nonlinearity")
            del flags[i:i + 2]
        flags += ["--activation", onnx_name(r, c["nl"])]
        if r.random() < 0.5:
            flags += ["--nonlinearity", "relu" if c["nl"] == "tanh" else "tanh"]
    if c["run64"]:
        flags += ["--dtype", "float64"]
    if c["sbf"]:
        flags += ["--state-batch-first"]
    if c["det"]:
        flags += ["--deterministic"]
    if c["threads"] is not None:
        flags += ["--threads", str(c["threads"])]
    if c["chunk"] is not None:
        flags += ["--chunk", str(c["chunk"])]
    if c["direction"]:
        flags += ["--direction", "bidirectional" if c["bi"] else "forward"]
    env = dict(os.environ)
    if c["force_threads"]:
        env["ELMAN_FORCE_THREADS"] = "1"

    run64 = c["run64"]
    cdt = torch.float64 if c["dtype"] == "float64" or run64 else torch.float32
    ref = torch.nn.RNN(c["I"], c["H"], c["L"], nonlinearity=c["nl"], bias=c["bias"],
                       batch_first=c["bf"], bidirectional=c["bi"]).to(cdt).eval()
    ref.load_state_dict({k: v.to(DTYPES[c["dtype"]]).to(cdt)
                         for k, v in rnn.state_dict().items()})

    I, H, B, T, L = c["I"], c["H"], c["B"], c["T"], c["L"]
    shape = (T, I) if c["unbatched"] else ((B, T, I) if c["bf"] else (T, B, I))
    x = torch.randn(*shape, dtype=torch.float64) * r.choice([0.5, 1.0, 3.0])
    x = x.numpy().astype("<f8" if c["x64"] else "<f4")
    np.save(os.path.join(work, "x.npy"), x)
    args = [elman, "run", "--weights", path, "--input", os.path.join(work, "x.npy"),
            "--output", os.path.join(work, "y.npy"), "--hn", os.path.join(work, "hn.npy")]
    h0 = None
    if c["h0"]:
        hshape = (L * D, H) if c["unbatched"] else (L * D, B, H)
        h0a = torch.randn(*hshape).numpy().astype("<f4")
        # --state-batch-first: the file is (B, L*D, H); unbatched stays (L*D, H).
        sbf = c["sbf"] and not c["unbatched"]
        np.save(os.path.join(work, "h0.npy"), np.ascontiguousarray(h0a.swapaxes(0, 1)) if sbf else h0a)
        args += ["--h0", os.path.join(work, "h0.npy")]
        h0 = torch.from_numpy(h0a).to(cdt)
    xt = torch.from_numpy(x).to(cdt)
    with torch.no_grad():
        if c["lengths"] is not None:
            np.save(os.path.join(work, "len.npy"),
                    np.array(c["lengths"], "<i4" if c["len_i32"] else "<i8"))
            args += ["--lengths", os.path.join(work, "len.npy")]
            packed = pack_padded_sequence(xt, torch.tensor(c["lengths"]), batch_first=c["bf"],
                                          enforce_sorted=False)
            y, hn = ref(packed, h0)
            y, _ = pad_packed_sequence(y, batch_first=c["bf"], total_length=T)
        else:
            y, hn = ref(xt, h0)
    args += flags
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return c, args, "elman failed (%d): %s" % (p.returncode, p.stderr.strip())
    if c["sbf"] and not c["unbatched"]:
        hn = hn.transpose(0, 1)
    want_dtype = np.float64 if run64 else np.float32
    for name, want in (("y", y), ("hn", hn)):
        got = np.load(os.path.join(work, name + ".npy"))
        want = want.numpy().astype(np.float64)
        if got.dtype != want_dtype or got.shape != want.shape:
            return c, args, "%s: dtype %s shape %s, expected %s %s" % (
                name, got.dtype, got.shape, np.dtype(want_dtype).name, want.shape)
        if run64:
            err = np.abs(got - want) - F64_TOL * (1 + np.abs(want))
        else:
            err = np.abs(got.astype(np.float64) - want) - (ATOL + RTOL * np.abs(want))
        if not np.all(np.isfinite(got)) or np.any(err > 0):
            i = np.unravel_index(np.argmax(err), err.shape)
            return c, args, "%s%s = %r, PyTorch %r" % (name, list(i), got[i], want[i])
    return c, args, None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("elman", help="the elman program")
    p.add_argument("--cases", type=int, default=100)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", help="keep the last case's files in this directory")
    a = p.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    print("diff_pytorch: seed %d, %d cases (replay one case k with --seed %d+k --cases 1)"
          % (seed, a.cases, seed), flush=True)
    torch.set_num_threads(1)
    work = a.keep or tempfile.mkdtemp(prefix="elman-diff-")
    os.makedirs(work, exist_ok=True)
    failed = 0
    try:
        for k in range(a.cases):
            c, args, problem = run_case(os.path.abspath(a.elman), seed + k, work)
            if problem:
                failed += 1
                print("FAIL case %d (--seed %d --cases 1): %s\n  config %s\n  %s"
                      % (k, seed + k, problem, c, " ".join(args)), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("diff_pytorch: %d cases, %d failed (seed %d)" % (a.cases, failed, seed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
