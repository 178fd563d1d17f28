#!/usr/bin/python3
"""torch_bench.py B T I H L D ITERS [--threads N] [--lengths] [--seed S] [--max-seconds S]
                [--parity] [--info]

The PyTorch peer of elman-bench: the same model shape, the same work and the
same JSON line ("impl":"pytorch"). Run it with the Python that has torch
(Debian: /usr/bin/python3 with python3-torch).

Timed: one `rnn(x)` call of nn.RNN(I, H, L, bidirectional=D==2) in eval mode
under torch.no_grad(), x (T, B, I), h0 = zeros. With --lengths the timed
call is pack_padded_sequence(enforce_sorted=False) -> rnn ->
pad_packed_sequence(total_length=T), the work elman does for the same
lengths; the lengths tensor is made outside the timed region. Warm-up: at
least 3 calls and 0.2 s, then ITERS timed calls; median and minimum.

--max-seconds S bounds a run whose calls turn out very slow (e.g. threads
fighting over busy cores): once S seconds have passed since the warm-up
began, the warm-up stops after 1 call and the timed loop after 3, and the
JSON line gains "iters_done".

Lengths are drawn exactly as elman_bench.c draws them: its xorshift64
generator (seeded the same way by --seed), advanced past the draws of the
weights and of x, then lengths[b] = 1 + (int)(u * (T-1) + 0.5) with u
uniform in [0, 1), and lengths[0] = T. So both harnesses run the same
lengths; the JSON line carries their mean over T as "valid_frac".

Threads: torch.set_num_threads(N) (ATen's OpenMP pool). Debian's torch does
its matrix products in OpenBLAS (pthreads), which set_num_threads does not
reach: the grid script also sets OPENBLAS_NUM_THREADS=N and OMP_NUM_THREADS=N
in the environment.

--parity: the closed-form weights and input of bench/parity.h, one call,
and a JSON line with output (T, B, D*H) and h_n (L*D, B, H).
--info: a JSON line with versions and thread settings.
"""
import json
import math
import sys
import time

import numpy as np
import torch

USAGE = ("usage: torch_bench.py B T I H L D ITERS [--threads N] [--lengths] [--seed S] "
         "[--max-seconds S] [--parity] [--info]")


def usage():
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def parse_int(s):
    try:
        v = int(s)
    except ValueError:
        usage()
    if v <= 0 or v > 1000000000:
        usage()
    return v


# ---- the closed-form parity data (bench/parity.h) -------------------------

def parity_values(n, tensor_id, bound):
    return [bound * math.sin(0.37 * i + 1.3 * tensor_id + 0.5) for i in range(n)]


def parity_tensor_id(layer, direction, num_directions, kind):
    return 1 + 4 * (layer * num_directions + direction) + kind


def parity_length(b, seq_len):
    return seq_len - (3 * b) % seq_len


# ---- elman_bench.c's generator, to draw the same lengths ------------------

MASK64 = (1 << 64) - 1


def xorshift(s):
    s ^= (s << 13) & MASK64
    s ^= s >> 7
    s ^= (s << 17) & MASK64
    return s


def _apply(cols, v):
    """Applies the GF(2)-linear map whose column j is cols[j] to v."""
    r, j = 0, 0
    while v:
        if v & 1:
            r ^= cols[j]
        v >>= 1
        j += 1
    return r


def xorshift_jump(s, steps):
    """The state after `steps` xorshift steps from s, in O(64^2 log steps)."""
    cols = [xorshift(1 << j) for j in range(64)]  # one step, as a matrix
    while steps:
        if steps & 1:
            s = _apply(cols, s)
        cols = [_apply(cols, c) for c in cols]  # square
        steps >>= 1
    return s


def elman_bench_lengths(B, T, I, H, L, D, seed):
    """The lengths elman_bench.c draws for this shape and seed."""
    s = 88172645463325252 if seed is None else (seed * 2654435761 + 1) & MASK64
    draws = 0
    for layer in range(L):
        i_l = I if layer == 0 else D * H
        draws += D * (H * i_l + H * H + 2 * H)  # w_ih, w_hh, b_ih, b_hh
    draws += B * T * I  # x
    s = xorshift_jump(s, draws)
    f32 = np.float32
    lengths = []
    for _ in range(B):
        s = xorshift(s)
        u = f32(s >> 40) / f32(16777216.0)  # = frand(1) * 0.5 + 0.5, exactly
        lengths.append(1 + int(f32(f32(u * f32(T - 1)) + f32(0.5))))
    lengths[0] = T
    return lengths


# ---- the harness ----------------------------------------------------------

def main(argv):
    if len(argv) < 8:
        usage()
    B, T, I, H, L, D, iters = (parse_int(a) for a in argv[1:8])
    threads, use_lengths, seed, parity, info = 1, False, None, False, False
    max_seconds = math.inf
    a = 8
    while a < len(argv):
        if argv[a] == "--threads" and a + 1 < len(argv):
            threads = parse_int(argv[a + 1])
            a += 1
        elif argv[a] == "--seed" and a + 1 < len(argv):
            seed = parse_int(argv[a + 1])
            a += 1
        elif argv[a] == "--max-seconds" and a + 1 < len(argv):
            try:
                max_seconds = float(argv[a + 1])
            except ValueError:
                usage()
            if not max_seconds > 0:
                usage()
            a += 1
        elif argv[a] == "--lengths":
            use_lengths = True
        elif argv[a] == "--parity":
            parity = True
        elif argv[a] == "--info":
            info = True
        else:
            usage()
        a += 1
    if D not in (1, 2):
        usage()

    torch.set_num_threads(threads)
    if info:
        print(json.dumps({
            "impl": "pytorch", "version": torch.__version__,
            "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads(),
            "parallel_info": torch.__config__.parallel_info(),
            "config": torch.__config__.show(),
        }))
        return 0

    rnn = torch.nn.RNN(I, H, L, bidirectional=D == 2).eval()
    if parity:
        bound = 1.0 / math.sqrt(H)
        with torch.no_grad():
            for layer in range(L):
                for d in range(D):
                    suffix = f"_l{layer}" + ("_reverse" if d else "")
                    for kind, name in enumerate(("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
                        p = getattr(rnn, name + suffix)
                        vals = parity_values(p.numel(), parity_tensor_id(layer, d, D, kind), bound)
                        p.copy_(torch.tensor(vals, dtype=torch.float32).reshape(p.shape))
        x = torch.tensor(parity_values(T * B * I, 0, 1.0), dtype=torch.float32).reshape(T, B, I)
        lengths = [parity_length(b, T) for b in range(B)]
    else:
        x = torch.rand(T, B, I) * 2 - 1
        lengths = elman_bench_lengths(B, T, I, H, L, D, seed)
    lengths_t = torch.tensor(lengths, dtype=torch.int64)
    pack = torch.nn.utils.rnn.pack_padded_sequence
    unpack = torch.nn.utils.rnn.pad_packed_sequence

    def call():
        if use_lengths:
            packed = pack(x, lengths_t, enforce_sorted=False)
            out_p, h_n = rnn(packed)
            out, _ = unpack(out_p, total_length=T)
            return out, h_n
        return rnn(x)

    shape = {"B": B, "T": T, "I": I, "H": H, "L": L, "D": D, "threads": threads,
             "lengths": use_lengths}
    with torch.no_grad():
        if parity:
            out, h_n = call()
            line = {"impl": "pytorch", "parity": True, **shape,
                    "output": [float(v) for v in out.contiguous().view(-1).tolist()],
                    "h_n": [float(v) for v in h_n.contiguous().view(-1).tolist()]}
            print(json.dumps(line, separators=(",", ":")))
            return 0
        t_start = time.perf_counter()
        t_warm, t_cap = t_start + 0.2, t_start + max_seconds
        w = 0
        while True:
            t = time.perf_counter()
            if (w >= 3 and t >= t_warm) or (w >= 1 and t >= t_cap):
                break
            call()
            w += 1
        times = []
        for n in range(iters):
            if n >= 3 and time.perf_counter() >= t_cap:
                break
            t0 = time.perf_counter_ns()
            call()
            times.append((time.perf_counter_ns() - t0) * 1e-3)
    times.sort()
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    flops = 0.0
    for layer in range(L):
        i_l = I if layer == 0 else D * H
        flops += D * 2.0 * T * B * (i_l * H + H * H)
    line = {"impl": "pytorch", **shape, "median_us": round(median, 3),
            "min_us": round(times[0], 3), "gflops": round(flops / median * 1e-3, 2)}
    if n < iters:
        line["iters_done"] = n
    if use_lengths:
        line["valid_frac"] = sum(lengths) / (B * T)
    print(json.dumps(line, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
