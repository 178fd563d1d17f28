#!/usr/bin/python3
"""Runs elman, oneDNN and PyTorch side by side on the six configs of issue 4.

    bench/run_grid.py [--quick] [--configs seed,stream,...] [--out DIR]
                      [--build DIR] [--reps N] [--parity] [--python PATH]
                      [--max-seconds S] [--peer-env NAME=VALUE]

1. Parity: all three harnesses compute the closed-form model of
   bench/parity.h on two small configs (1 and 2 threads, with and without
   per-sequence lengths where the implementation has them) and must agree
   within 2e-5 + 1e-4*|ref| (ref = PyTorch). Any disagreement exits with
   status 1 before anything is timed. --parity stops after this step.
2. The machine: lscpu, OpenBLAS core name, versions, load average, and the
   sgemm rate at 1 and 2 threads (build/bench/sgemm-rate).
3. The grid: each config x threads (1, 2) x {elman, oneDNN, PyTorch,
   elman --lengths, PyTorch --lengths}, REPS repetitions. Within a
   repetition the implementations of one config and thread count run back
   to back, and their order rotates from one repetition to the next, so
   load drifts hit them alike. Each run prints its median over ITERS calls;
   the table holds the median of those medians.
4. Writes DIR/PERFORMANCE-table.md, DIR/performance.png (if matplotlib is
   installed) and DIR/performance-raw.json (every run, for re-analysis).

Threads: elman runs with OPENBLAS_NUM_THREADS=1 and --threads N (elman
starts its own threads); oneDNN with --threads N (omp_set_num_threads) and
OMP_NUM_THREADS=N; PyTorch with --threads N (torch.set_num_threads) and
OMP_NUM_THREADS=N, OPENBLAS_NUM_THREADS=N (Debian's torch multiplies in
OpenBLAS); sgemm-rate with OPENBLAS_NUM_THREADS=N.

Run it with /usr/bin/python3 (the PyTorch harness always runs with
--python, default /usr/bin/python3; this script needs only the standard
library, plus matplotlib for the chart).
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name, (B, T, I, H, L, D), ITERS per run. ITERS keeps each timed loop
# around 0.1-1 s on a 2-core machine; the whole grid at the default
# repetitions takes about 8 minutes there (PyTorch's import is ~2 s a run).
CONFIGS = [
    ("seed", (1, 3, 1, 4, 1, 1), 2001),
    ("stream", (1, 1000, 16, 64, 1, 1), 41),
    ("mid1", (1, 500, 128, 256, 1, 1), 21),
    ("batch", (32, 100, 256, 256, 1, 1), 15),
    ("large", (64, 50, 512, 1024, 1, 1), 5),
    ("deepbi", (16, 100, 128, 256, 3, 2), 7),
]
COMPUTE_BOUND = ("batch", "large", "deepbi")
THREADS = (1, 2)

# Targets of issue 11, shown next to the ratios and checked by targets().
# oneDNN / elman at 1 and 2 threads; at 2 threads mid1 is held against
# oneDNN's faster thread count (the "best" table).
ONEDNN_TARGET = {1: {"seed": 5.0, "stream": 3.0, "mid1": 1.6, "batch": 1.0, "large": 1.0,
                     "deepbi": 1.0},
                 2: {"batch": 1.0, "large": 1.0, "deepbi": 1.0}}
ONEDNN_BEST_TARGET = {"mid1": 2.5}
PYTORCH_TARGET = 1.5
PEAK_TARGET = 0.75      # elman GFLOP/s / the FMA peak, compute-bound configs, 1 thread
SCALING_TARGET = {"batch": 1.6, "large": 1.6, "deepbi": 1.6}  # else 1.0: never slower

# The OpenBLAS settings of the two grids: the machine's environment as it
# is, and without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (what a user's
# machine does), for the peers and elman alike.
OPENBLAS_KNOBS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SETTINGS = ("machine", "unset")

# sgemm shapes (M, N, K, ITERS): the batch config's input projection
# (T*B = 3200 rows), the large config's, and a square one.
SGEMM_SHAPES = [(3200, 256, 256, 41), (3200, 1024, 512, 9), (1024, 1024, 1024, 9)]

PARITY_CONFIGS = [(2, 5, 3, 4, 2, 2), (3, 4, 2, 5, 3, 1)]
PARITY_ABS, PARITY_REL = 2e-5, 1e-4

# variant = (implementation, lengths)
VARIANTS = [("elman", False), ("onednn", False), ("pytorch", False),
            ("elman", True), ("pytorch", True), ("elman-det", False)]
LABEL = {"elman": "elman", "onednn": "oneDNN", "pytorch": "PyTorch",
         "elman-det": "elman deterministic"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Harness:
    """How to run one implementation: command prefix and environment."""

    def __init__(self, args):
        bench = os.path.join(os.path.abspath(args.build), "bench")
        self.paths = {
            "elman": os.path.join(bench, "elman-bench"),
            "elman-det": os.path.join(bench, "elman-bench"),
            "fma": os.path.join(bench, "fma-peak"),
            "elman-parity": os.path.join(bench, "elman-parity"),
            "onednn": os.path.join(bench, "onednn-bench"),
            "sgemm": os.path.join(bench, "sgemm-rate"),
        }
        self.python = args.python
        self.peer_env = dict(kv.split("=", 1) for kv in args.peer_env)
        self.unset = ()  # environment variables removed for every run
        self.torch_script = os.path.join(HERE, "torch_bench.py")
        self.available = {
            "elman": os.access(self.paths["elman"], os.X_OK),
            "elman-det": os.access(self.paths["elman"], os.X_OK),
            "fma": os.access(self.paths["fma"], os.X_OK),
            "elman-parity": os.access(self.paths["elman-parity"], os.X_OK),
            "onednn": os.access(self.paths["onednn"], os.X_OK),
            "sgemm": os.access(self.paths["sgemm"], os.X_OK),
            "pytorch": self._has_torch(),
        }

    def _has_torch(self):
        try:
            r = subprocess.run([self.python, "-c", "import torch"], capture_output=True,
                               timeout=120)
            return r.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def command(self, impl, shape, iters, threads, lengths=False, extra=(), max_seconds=None):
        if impl == "pytorch":
            cmd = [self.python, self.torch_script]
        else:
            cmd = [self.paths[impl]]
        cmd += [str(v) for v in shape] + [str(iters), "--threads", str(threads)]
        if lengths:
            cmd.append("--lengths")
        if max_seconds and impl in ("onednn", "pytorch"):
            cmd += ["--max-seconds", f"{max_seconds:g}"]
        if impl == "elman-det":
            cmd.append("--deterministic")
        return cmd + list(extra)

    def env(self, impl, threads):
        e = {k: v for k, v in os.environ.items() if k not in self.unset}
        if impl in ("onednn", "pytorch"):
            e.update(self.peer_env)
        n = str(threads)
        if impl in ("elman", "elman-det", "elman-parity"):
            e["OPENBLAS_NUM_THREADS"] = "1"  # elman starts its own threads
        elif impl == "onednn":
            e["OMP_NUM_THREADS"] = n
        elif impl == "pytorch":
            e["OMP_NUM_THREADS"] = n
            e["OPENBLAS_NUM_THREADS"] = n
            e["MKL_NUM_THREADS"] = n
        elif impl == "sgemm":
            e["OPENBLAS_NUM_THREADS"] = n
        return e

    def run_json(self, impl, cmd, threads, timeout=600):
        """Runs cmd; returns (parsed last JSON line or None, error text)."""
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               env=self.env(impl, threads))
        except subprocess.TimeoutExpired:
            return None, "timeout"
        except OSError as e:
            return None, str(e)
        if r.returncode != 0:
            return None, (r.stderr.strip() or f"exit status {r.returncode}")
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            return None, "no JSON line in output"
        return json.loads(lines[-1]), None


# ---- parity ----------------------------------------------------------------

def compare(got, ref):
    """(worst |got - ref| / (abs + rel*|ref|), worst |got - ref|): passes if <= 1."""
    if len(got) != len(ref):
        return math.inf, math.inf
    worst_ratio, worst_diff = 0.0, 0.0
    for g, r in zip(got, ref):
        diff = abs(g - r) if math.isfinite(g) else math.inf
        worst_ratio = max(worst_ratio, diff / (PARITY_ABS + PARITY_REL * abs(r)))
        worst_diff = max(worst_diff, diff)
    return worst_ratio, worst_diff


def parity_check(h):
    """Runs every harness on the parity configs; returns (ok, report lines)."""
    report, ok = [], True
    for shape in PARITY_CONFIGS:
        for lengths in (False, True):
            runs = []  # (name, impl, threads)
            if h.available["pytorch"]:
                runs.append(("pytorch", "pytorch", 1))
            if h.available["elman-parity"]:
                runs += [("elman", "elman-parity", 1), ("elman", "elman-parity", 2)]
            if h.available["onednn"] and not lengths:
                runs += [("onednn", "onednn", 1), ("onednn", "onednn", 2)]
            results = []
            for name, impl, t in runs:
                cmd = h.command(impl, shape, 1, t, lengths, ("--parity",))
                res, err = h.run_json(impl, cmd, t, timeout=300)
                if res is None:
                    ok = False
                    report.append(f"FAIL {name} {shape} threads={t} lengths={lengths}: {err}")
                    continue
                results.append((name, t, res))
            if len(results) < 2:
                report.append(f"skip {shape} lengths={lengths}: fewer than two harnesses")
                continue
            ref_name, ref_t, ref = results[0]
            for name, t, res in results[1:]:
                for key in ("output", "h_n"):
                    ratio, diff = compare(res[key], ref[key])
                    status = "ok  " if ratio <= 1 else "FAIL"
                    if ratio > 1:
                        ok = False
                    report.append(f"{status} {shape} lengths={str(lengths):5} {key:6} "
                                  f"{name} ({t}T) vs {ref_name} ({ref_t}T): "
                                  f"max |diff| {diff:.1e} = {ratio:.3f} x tolerance")
    return ok, report


# ---- machine ---------------------------------------------------------------

def machine_info(h):
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = {}
        for line in lscpu.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
        info["cpu"] = fields.get("Model name", "?")  # replaced by elman-bench --info
        info["cpus"] = fields.get("CPU(s)", "?")
        info["threads_per_core"] = fields.get("Thread(s) per core", "?")
        flags = fields.get("Flags", "").split()
        info["isa"] = " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16",
                                           "amx_tile", "asimd", "sve") if f in flags)
        info["hypervisor"] = fields.get("Hypervisor vendor", "none")
    except OSError:
        pass
    res, _ = h.run_json("elman", [h.paths["elman"], "--info"], 1)
    if res:
        info["cpu"] = f"{res['cpu']} (family {res['family']})"
        info["elman_kernels"] = res["kernels"]
    if h.available["fma"]:
        peaks = []
        for _ in range(3):  # best of three: a busy core only lowers it
            res, _ = h.run_json("fma", [h.paths["fma"]], 1)
            if res:
                peaks.append(res)
        for isa in ("avx2", "avx512"):
            vals = [p[f"{isa}_gflops"] for p in peaks if p.get(f"{isa}_gflops")]
            if vals:
                info[f"fma_{isa}"] = max(vals)
        info["fma_peak"] = info.get("fma_avx512", info.get("fma_avx2"))
    if h.available["sgemm"]:
        res, _ = h.run_json("sgemm", [h.paths["sgemm"], "--info"], 1)
        if res:
            info["openblas_core"] = res["corename"]
            info["openblas_config"] = res["config"]
    if h.available["onednn"]:
        res, _ = h.run_json("onednn", h.command("onednn", (1, 3, 1, 4, 1, 1), 1, 1,
                                                 extra=("--info",)), 1)
        if res:
            info["onednn"] = (f"{res['version']} ({res['cpu_runtime']}), RNN implementation "
                              f"'{res['layers'][0]['impl_info']}'")
    if h.available["pytorch"]:
        res, _ = h.run_json("pytorch", h.command("pytorch", (1, 3, 1, 4, 1, 1), 1, 1,
                                                  extra=("--info",)), 1)
        if res:
            info["pytorch"] = res["version"]
    return info


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def sgemm_rates(h, reps):
    rates = {}  # threads -> {shape: median gflops}
    for t in THREADS:
        rates[t] = {}
        for m, n, k, iters in SGEMM_SHAPES:
            vals = []
            for _ in range(reps):
                res, err = h.run_json("sgemm", [h.paths["sgemm"], str(m), str(n), str(k),
                                                str(iters), "--threads", str(t)], t)
                if res is None:
                    log(f"sgemm-rate {m}x{n}x{k} {t}T failed: {err}")
                    continue
                vals.append(res["gflops"])
            if vals:
                rates[t][f"{m}x{n}x{k}"] = statistics.median(vals)
    return rates


# ---- the grid --------------------------------------------------------------

def run_grid(h, configs, reps, iter_scale, max_seconds):
    runs = []
    total = reps * len(configs) * len(THREADS) * len(VARIANTS)
    done, t_start = 0, time.time()
    for rep in range(reps):
        for name, shape, iters in configs:
            iters = max(3, int(iters * iter_scale) | 1)
            for t in THREADS:
                k = (rep + THREADS.index(t)) % len(VARIANTS)
                for impl, lengths in VARIANTS[k:] + VARIANTS[:k]:
                    done += 1
                    if not h.available[impl] or (impl == "onednn" and lengths):
                        continue
                    cmd = h.command(impl, shape, iters, t, lengths, max_seconds=max_seconds)
                    t0 = time.time()
                    res, err = h.run_json(impl, cmd, t)
                    runs.append({"rep": rep, "config": name, "impl": impl, "threads": t,
                                 "lengths": lengths, "cmd": cmd, "result": res, "error": err,
                                 "wall_s": round(time.time() - t0, 2)})
                    med = f"{res['median_us']:.1f} us" if res else f"FAILED: {err}"
                    log(f"[{done}/{total} {time.time() - t_start:.0f}s] rep {rep} {name} "
                        f"{impl}{' --lengths' if lengths else ''} {t}T: {med}")
    return runs


def summarize(runs):
    """(config, impl, threads, lengths) -> dict of median of medians & co."""
    groups = {}
    for r in runs:
        if r["result"] is None:
            continue
        key = (r["config"], r["impl"], r["threads"], r["lengths"])
        groups.setdefault(key, []).append(r["result"])
    out = {}
    for key, results in groups.items():
        meds = [x["median_us"] for x in results]
        m = statistics.median(meds)
        out[key] = {"median_us": m, "min_us": min(x["min_us"] for x in results),
                    "spread": (max(meds) - min(meds)) / m if m > 0 else 0.0,
                    "gflops": statistics.median(x["gflops"] for x in results),
                    "valid_frac": results[0].get("valid_frac"), "n": len(meds),
                    "truncated": sum("iters_done" in x for x in results)}
    return out


# ---- output ----------------------------------------------------------------

def fmt_us(v):
    if v is None:
        return "n/a"
    if v >= 1e4:
        return f"{v / 1e3:,.1f} ms"
    if v >= 100:
        return f"{v:,.0f} µs"
    return f"{v:.2f} µs"


def fmt_ratio(num, den, target=None):
    if num is None or den is None or den <= 0:
        return "n/a", None
    r = num / den
    s = f"{r:.0f}" if r >= 100 else f"{r:.1f}" if r >= 10 else f"{r:.2f}"
    if target is not None:
        s += f" {'✓' if r >= target else '✗'} (≥{target:g})"
    return s, r


def write_table(path, summary, configs, info, rates, parity_report, args, reps, wall_s):
    def get(config, impl, t, lengths=False):
        v = summary.get((config, impl, t, lengths))
        return v["median_us"] if v else None

    sgemm_best = {t: (max(rates[t].values()) if rates.get(t) else None) for t in THREADS}
    L = []
    L.append("# Performance grid: elman, oneDNN, PyTorch")
    L.append("")
    L.append(f"Generated by `bench/run_grid.py{' ' + ' '.join(args) if args else ''}` "
             f"on {info.get('date')}; do not edit by hand. Median over {reps} "
             f"repetition(s) of each run's median time of one forward call; "
             f"implementations alternate within each repetition. "
             f"Grid wall time {wall_s / 60:.1f} min.")
    L.append("")
    L.append("## Machine")
    L.append("")
    L.append(f"- CPU: {info.get('cpu')}, {info.get('cpus')} CPUs, "
             f"{info.get('threads_per_core')} thread(s) per core, "
             f"ISA: {info.get('isa')}, hypervisor: {info.get('hypervisor')}")
    L.append(f"- elman's kernels: **{info.get('elman_kernels', '?')}**; FMA peak of one core "
             f"(`fma-peak`, 12 chains, best of 3): AVX2 {info.get('fma_avx2', 'n/a')}, "
             f"AVX-512 {info.get('fma_avx512', 'n/a')} GFLOP/s")
    L.append(f"- OpenBLAS settings: {info.get('openblas_env', '?')}; OpenBLAS core: "
             f"**{info.get('openblas_core', 'n/a')}** (`{info.get('openblas_config', '')}`)")
    L.append(f"- oneDNN: {info.get('onednn', 'not built')}; PyTorch: "
             f"{info.get('pytorch', 'not installed')}; {info.get('platform')}")
    L.append(f"- Load average (1 min) before / after the grid: "
             f"{info.get('load_before', float('nan')):.2f} / "
             f"{info.get('load_after', float('nan')):.2f} — anything well above 0 means "
             f"other work shared the cores and the numbers are noisy.")
    L.append("- Threads: elman `--threads N` with OPENBLAS_NUM_THREADS=1; oneDNN `--threads N` "
             "(omp_set_num_threads) with OMP_NUM_THREADS=N; PyTorch torch.set_num_threads(N) "
             "with OMP_NUM_THREADS=N and OPENBLAS_NUM_THREADS=N"
             + (f"; oneDNN and PyTorch also ran with {', '.join(info['peer_env'])}"
                if info.get("peer_env") else "") + ".")
    for t in THREADS:
        shapes = ", ".join(f"{s}: {g:.1f}" for s, g in rates.get(t, {}).items())
        best = sgemm_best[t]
        L.append(f"- sgemm rate, {t} thread(s): **{best:.1f} GFLOP/s** (best of {shapes})"
                 if best else f"- sgemm rate, {t} thread(s): n/a")
    L.append("")

    L.append("## Full-length sequences")
    L.append("")
    L.append("Ratios are peer time / elman time (> 1: elman is faster); ✓/✗ against the "
             "targets of issue 11. % FMA peak = elman GFLOP/s / (threads × the FMA peak of "
             "one core, AVX-512 where the CPU has it); % sgemm = the same against OpenBLAS's "
             "sgemm rate at that thread count. elman 1T/2T = elman's 1-thread time / its "
             "2-thread time. deterministic / default = elman's time with "
             "`elman_config.deterministic` / without. FLOPs = Σ over layers and directions "
             "of 2·T·B·(I_l·H + H·H).")
    L.append("")
    L.extend(full_table(summary, configs, info, sgemm_best))
    L.append("")
    L.extend(targets_lines(targets(summary, configs, info)))
    L.append("")
    write_rest(L, path, summary, configs, info, parity_report)


def full_table(summary, configs, info, sgemm_best):
    """The lines of the full-length table."""
    def get(config, impl, t, lengths=False):
        v = summary.get((config, impl, t, lengths))
        return v["median_us"] if v else None

    peak = info.get("fma_peak")
    L = []
    L.append("| config | B, T, I, H, L, D | threads | elman | oneDNN | PyTorch | "
             "oneDNN / elman | PyTorch / elman | elman GFLOP/s | % FMA peak | % sgemm | "
             "elman 1T/2T | elman deterministic | deterministic / default |")
    L.append("|---|---|---:|---:|---:|---:|---|---|---:|---|---:|---|---:|---:|")
    for name, shape, _ in configs:
        for t in THREADS:
            e, o, p = get(name, "elman", t), get(name, "onednn", t), get(name, "pytorch", t)
            ro, _ = fmt_ratio(o, e, ONEDNN_TARGET.get(t, {}).get(name))
            rp, _ = fmt_ratio(p, e, PYTORCH_TARGET)
            es = summary.get((name, "elman", t, False))
            gf = f"{es['gflops']:.1f}" if es else "n/a"
            pct = "—"
            if es and sgemm_best[t]:
                frac = es["gflops"] / sgemm_best[t]
                pct = f"{100 * frac:.0f}%" if frac >= 0.1 else f"{100 * frac:.1f}%"
            ppk = "—"
            if es and peak:
                frac = es["gflops"] / (peak * t)
                ppk = f"{100 * frac:.0f}%" if frac >= 0.1 else f"{100 * frac:.1f}%"
                if name in COMPUTE_BOUND and t == 1 and frac <= 1:
                    ppk += f" {'✓' if frac >= PEAK_TARGET else '✗'} (≥{100 * PEAK_TARGET:.0f}%)"
                elif frac > 1:
                    ppk += " (peak probe lost its core)"
            scaling = "—"
            if t != 1:
                scaling, _ = fmt_ratio(get(name, "elman", 1), e, SCALING_TARGET.get(name, 1.0))
            det = get(name, "elman-det", t)
            dd, _ = fmt_ratio(det, e)
            L.append(f"| {name} | {', '.join(map(str, shape))} | {t} | {fmt_us(e)} | "
                     f"{fmt_us(o)} | {fmt_us(p)} | {ro} | {rp} | {gf} | {ppk} | {pct} | "
                     f"{scaling} | {fmt_us(det)} | {dd} |")
    return L


def write_rest(L, path, summary, configs, info, parity_report):
    """The lengths, best-thread, noise and parity sections; writes the file."""
    def get(config, impl, t, lengths=False):
        v = summary.get((config, impl, t, lengths))
        return v["median_us"] if v else None

    L.append("## Per-sequence lengths")
    L.append("")
    L.append("Lengths uniform in 1..T with lengths[0] = T, the same values in both harnesses "
             "(valid = mean length / T). PyTorch times pack_padded_sequence"
             "(enforce_sorted=False) → nn.RNN → pad_packed_sequence(total_length=T). "
             "oneDNN's vanilla RNN has no per-sequence lengths (n/a). "
             "elman lengths/full = elman's time with lengths / without (ideally ≈ valid).")
    L.append("")
    L.append("| config | threads | valid | elman | PyTorch | PyTorch / elman | "
             "elman lengths/full |")
    L.append("|---|---:|---:|---:|---:|---|---:|")
    for name, shape, _ in configs:
        for t in THREADS:
            e, p = get(name, "elman", t, True), get(name, "pytorch", t, True)
            rp, _ = fmt_ratio(p, e, PYTORCH_TARGET)
            ps = summary.get((name, "pytorch", t, True))
            valid = f"{ps['valid_frac']:.2f}" if ps and ps.get("valid_frac") else "?"
            es = summary.get((name, "elman", t, True))
            if es and ps and es.get("valid_frac") is not None \
                    and abs(es["valid_frac"] - ps["valid_frac"]) > 1e-6:
                valid += f" ≠ elman's {es['valid_frac']:.2f}!"  # not the same lengths
            lf, _ = fmt_ratio(e, get(name, "elman", t))
            L.append(f"| {name} | {t} | {valid} | {fmt_us(e)} | {fmt_us(p)} | {rp} | {lf} |")
    L.append("")

    L.append("## Two threads against each peer's best thread count")
    L.append("")
    L.append("A stricter reading of the 2-thread rows: each peer at its faster of 1 and 2 "
             "threads (oneDNN and PyTorch get slower with 2 threads on small problems).")
    L.append("")
    L.append("| config | elman 2T | oneDNN best | oneDNN best / elman | PyTorch best | "
             "PyTorch best / elman |")
    L.append("|---|---:|---:|---|---:|---|")
    for name, shape, _ in configs:
        e = get(name, "elman", 2)
        bests = {}
        for impl in ("onednn", "pytorch"):
            vals = [v for v in (get(name, impl, 1), get(name, impl, 2)) if v is not None]
            bests[impl] = min(vals) if vals else None
        ro, _ = fmt_ratio(bests["onednn"], e, ONEDNN_BEST_TARGET.get(name))
        rp, _ = fmt_ratio(bests["pytorch"], e, PYTORCH_TARGET)
        L.append(f"| {name} | {fmt_us(e)} | {fmt_us(bests['onednn'])} | {ro} | "
                 f"{fmt_us(bests['pytorch'])} | {rp} |")
    L.append("")

    cut = sorted({f"{k[0]} {k[1]} {k[2]}T{' lengths' if k[3] else ''}"
                  for k, v in summary.items() if v["truncated"]})
    if cut:
        L.append(f"Stopped early by `--max-seconds` (very slow calls, ≥ 3 timed): "
                 f"{', '.join(cut)}.")
        L.append("")
    spreads = [(v["spread"], k) for k, v in summary.items() if v["n"] > 1]
    if spreads:
        worst = max(spreads)
        L.append(f"Noise: the largest spread of one run's median across repetitions was "
                 f"{100 * worst[0]:.0f}% ({worst[1][0]} {worst[1][1]} {worst[1][2]}T"
                 f"{' lengths' if worst[1][3] else ''}); see `performance-raw.json`.")
        L.append("")
    L.append("## Parity (equal work)")
    L.append("")
    L.append("Every harness computed the closed-form model of `bench/parity.h`; each was "
             f"compared with PyTorch within {PARITY_ABS:g} + {PARITY_REL:g}·|ref|:")
    L.append("")
    L.append("```")
    L.extend(parity_report)
    L.append("```")
    L.append("")
    L.append("Reproduce: see `bench/README.md`.")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def targets(summary, configs, info):
    """Every target of issue 11 this grid measures, from the same medians as
    the tables: a list of (what, value or None, target)."""
    def get(config, impl, t, lengths=False):
        v = summary.get((config, impl, t, lengths))
        return v["median_us"] if v else None

    def ratio(num, den):
        return num / den if num is not None and den else None

    out = []
    peak = info.get("fma_peak")
    for name, _, _ in configs:
        for t in THREADS:
            target = ONEDNN_TARGET.get(t, {}).get(name)
            if target:
                out.append((f"oneDNN / elman, {name}, {t}T",
                            ratio(get(name, "onednn", t), get(name, "elman", t)), target))
        if name in ONEDNN_BEST_TARGET:
            best = [v for v in (get(name, "onednn", 1), get(name, "onednn", 2)) if v]
            out.append((f"oneDNN at its faster thread count / elman 2T, {name}",
                        ratio(min(best) if best else None, get(name, "elman", 2)),
                        ONEDNN_BEST_TARGET[name]))
        for lengths in (False, True):
            for t in THREADS:
                out.append((f"PyTorch / elman, {name}, {t}T{', lengths' if lengths else ''}",
                            ratio(get(name, "pytorch", t, lengths),
                                  get(name, "elman", t, lengths)), PYTORCH_TARGET))
        out.append((f"elman 1T / 2T, {name}",
                    ratio(get(name, "elman", 1), get(name, "elman", 2)),
                    SCALING_TARGET.get(name, 1.0)))
        es = summary.get((name, "elman", 1, False))
        if name in COMPUTE_BOUND and peak:
            frac = es["gflops"] / peak if es else None
            # above 1 only if the probe lost its core while it ran: no measure
            out.append((f"elman GFLOP/s / FMA peak, {name}, 1T"
                        + (f" (peak probe {peak:g} GFLOP/s < elman's {es['gflops']:g}: "
                           f"the probe lost its core)" if frac and frac > 1 else ""),
                        frac if frac is None or frac <= 1 else None, PEAK_TARGET))
    return out


def targets_lines(results):
    """The met / missed lists of targets() as markdown."""
    def fmt(what, value, target):
        v = "n/a" if value is None else f"{value:.2f}"
        return f"- {what}: {v} (target ≥ {target:g})"

    met = [r for r in results if r[1] is not None and r[1] >= r[2]]
    missed = [r for r in results if r[1] is not None and r[1] < r[2]]
    unmeasured = [r for r in results if r[1] is None]
    L = [f"**Targets of issue 11, computed from this table by `bench/run_grid.py`: "
         f"{len(met)} met, {len(missed)} missed"
         + (f", {len(unmeasured)} not measured" if unmeasured else "") + ".**", ""]
    L.append(f"Met ({len(met)}):")
    L.append("")
    L.extend(fmt(*r) for r in met)
    L.append("")
    L.append(f"Missed ({len(missed)}):")
    L.append("")
    L.extend(fmt(*r) for r in missed)
    if unmeasured:
        L.append("")
        L.append(f"Not measured ({len(unmeasured)}):")
        L.append("")
        L.extend(fmt(*r) for r in unmeasured)
    return L


def write_chart(path, summary, configs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed (Debian: apt-get install python3-matplotlib): no chart")
        return False

    def ratio(config, peer, t, lengths=False):
        p = summary.get((config, peer, t, lengths))
        e = summary.get((config, "elman", t, lengths))
        return p["median_us"] / e["median_us"] if p and e and e["median_us"] > 0 else None

    series = [("oneDNN / elman, 1T", "onednn", 1, False, "#1f77b4"),
              ("oneDNN / elman, 2T", "onednn", 2, False, "#aec7e8"),
              ("PyTorch / elman, 1T", "pytorch", 1, False, "#d62728"),
              ("PyTorch / elman, 2T", "pytorch", 2, False, "#ff9896"),
              ("PyTorch / elman, lengths, 1T", "pytorch", 1, True, "#2ca02c"),
              ("PyTorch / elman, lengths, 2T", "pytorch", 2, True, "#98df8a")]
    names = [c[0] for c in configs]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    for i, (label, peer, t, lengths, color) in enumerate(series):
        xs, ys = [], []
        for j, name in enumerate(names):
            r = ratio(name, peer, t, lengths)
            if r is not None:
                xs.append(j - 0.4 + (i + 0.5) * width)
                ys.append(r)
        ax.bar(xs, ys, width, label=label, color=color)
        for x, y in zip(xs, ys):
            ax.annotate(f"{y:.1f}", (x, y), ha="center", va="bottom", fontsize=6)
        # the targets of issue 11 as short black ticks above the bars
        for x, name in zip(xs, [n for n in names if ratio(n, peer, t, lengths) is not None]):
            target = (ONEDNN_TARGET.get(t, {}).get(name) if peer == "onednn"
                      else PYTORCH_TARGET)
            if target:
                ax.plot([x - width / 2, x + width / 2], [target, target], color="black",
                        linewidth=1.5)
    ax.axhline(1.0, color="gray", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n{','.join(map(str, s))}" for n, s, _ in configs], fontsize=8)
    ax.set_ylabel("peer time / elman time (log; > 1: elman faster)")
    ax.set_title("elman against oneDNN and PyTorch (black ticks: targets of issue 11)")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="one repetition, a third of the iterations (a smoke test)")
    ap.add_argument("--configs", help="comma-separated subset of " +
                    ",".join(c[0] for c in CONFIGS))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"), help="output directory")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="CMake build directory")
    ap.add_argument("--reps", type=int, help="repetitions (default 4, --quick 1)")
    ap.add_argument("--parity", action="store_true", help="only run the parity check")
    ap.add_argument("--rescore", action="store_true",
                    help="run nothing: rewrite the tables, charts and the generated section "
                         "of PERFORMANCE.md from OUT/performance-raw.json")
    ap.add_argument("--openblas", default="machine,unset",
                    help="OpenBLAS settings to run the grid with: machine (the environment "
                         "as it is), unset (without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE); "
                         "default both, one after the other")
    ap.add_argument("--max-seconds", type=float, default=5.0,
                    help="bound of one oneDNN/PyTorch run whose calls are very slow "
                         "(then >= 3 timed calls; default 5; 0: none)")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with torch")
    ap.add_argument("--peer-env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for the oneDNN and PyTorch runs, e.g. "
                         "OMP_WAIT_POLICY=passive (repeatable; recorded in the table)")
    args = ap.parse_args()

    configs = CONFIGS
    if args.configs:
        wanted = args.configs.split(",")
        unknown = [w for w in wanted if w not in {c[0] for c in CONFIGS}]
        if unknown:
            ap.error(f"unknown config(s): {', '.join(unknown)}")
        configs = [c for c in CONFIGS if c[0] in wanted]
    reps = args.reps or (1 if args.quick else 4)
    settings = args.openblas.split(",")
    if any(v not in SETTINGS for v in settings):
        ap.error(f"--openblas wants a list of {', '.join(SETTINGS)}")
    iter_scale = 1 / 3 if args.quick else 1.0

    bad = [kv for kv in args.peer_env if "=" not in kv]
    if bad:
        ap.error(f"--peer-env wants NAME=VALUE, got {bad[0]}")
    h = Harness(args)
    for need in ("elman", "elman-parity", "sgemm", "fma"):
        if not h.available[need]:
            sys.exit(f"{h.paths[need]} not found: build first "
                     f"(cmake -S . -B build && cmake --build build -j2)")
    for peer, why in (("onednn", "libdnnl-dev not installed at build time"),
                      ("pytorch", f"{args.python} cannot import torch")):
        if not h.available[peer]:
            log(f"warning: {peer} skipped ({why}); its columns will read n/a")

    if args.rescore:
        rescore(args, configs)
        return
    t_start = time.time()
    log("parity check ...")
    ok, report = parity_check(h)
    for line in report:
        log("  " + line)
    if not ok:
        log("parity check FAILED: the implementations do not compute the same thing")
        sys.exit(1)
    log("parity check passed")
    if args.parity:
        return

    os.makedirs(args.out, exist_ok=True)
    raw, sections = {}, []
    for setting in settings:
        grid = run_setting(h, setting, args, configs, reps, iter_scale, report)
        raw[setting] = grid["raw"]
        sections.append(grid)
    with open(os.path.join(args.out, "performance-raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
    doc = os.path.join(args.out, "PERFORMANCE.md")
    if os.path.exists(doc):
        update_doc(doc, sections)
        log(f"updated the generated section of {doc}")
    log(f"done in {(time.time() - t_start) / 60:.1f} min")


def run_setting(h, setting, args, configs, reps, iter_scale, report):
    """One whole grid with the OpenBLAS setting `setting`; writes its table
    and chart and returns what the documentation shows of it."""
    t_start = time.time()
    h.unset = OPENBLAS_KNOBS if setting == "unset" else ()
    info = machine_info(h)
    info["openblas_env"] = ", ".join(
        f"{k}={os.environ[k]}" if k in os.environ and setting == "machine" else f"{k} unset"
        for k in OPENBLAS_KNOBS)
    info["load_before"] = loadavg()
    info["peer_env"] = args.peer_env
    log(f"[{setting}] machine: {info.get('cpu')}, elman {info.get('elman_kernels')}, "
        f"OpenBLAS {info.get('openblas_core')}, FMA peak {info.get('fma_peak')}, "
        f"load {info['load_before']:.2f}")
    if info["load_before"] > 0.5 and not args.peer_env:
        log("warning: the machine is busy; timings will be noisy, and OpenMP's spinning "
            "threads make 2-thread oneDNN/PyTorch runs very slow (consider "
            "--peer-env OMP_WAIT_POLICY=passive, see bench/README.md)")
    log("sgemm rate ...")
    rates = sgemm_rates(h, 1 if args.quick else 2)
    log(f"sgemm: {json.dumps(rates)}")
    runs = run_grid(h, configs, reps, iter_scale, args.max_seconds)
    info["load_after"] = loadavg()
    summary = summarize(runs)
    wall = time.time() - t_start
    raw = {"machine": info, "sgemm_gflops": rates, "reps": reps, "iter_scale": iter_scale,
           "parity": report, "runs": runs, "wall_s": wall}
    return write_setting(args, setting, raw, configs, sys.argv[1:])


def rescore(args, configs):
    """--rescore: the outputs again from the raw runs of an earlier grid."""
    with open(os.path.join(args.out, "performance-raw.json")) as f:
        raw = json.load(f)
    sections = []
    for setting in SETTINGS:
        if setting in raw:
            grid = raw[setting]
            names = {r["config"] for r in grid["runs"]}
            sections.append(write_setting(args, setting, grid,
                                          [c for c in configs if c[0] in names],
                                          grid.get("args", sys.argv[1:])))
    update_doc(os.path.join(args.out, "PERFORMANCE.md"), sections)


def write_setting(args, setting, raw, configs, argv):
    """Writes the table and chart of one grid from its raw runs; returns
    what the documentation shows of it."""
    info, rates, runs = raw["machine"], raw["sgemm_gflops"], raw["runs"]
    rates = {int(t): v for t, v in rates.items()}  # JSON keys are strings
    summary = summarize(runs)
    raw["args"] = argv
    suffix = "" if setting == "machine" else "-" + setting
    table = os.path.join(args.out, f"PERFORMANCE-table{suffix}.md")
    write_table(table, summary, configs, info, rates, raw["parity"], argv, raw["reps"],
                raw.get("wall_s", 0))
    log(f"wrote {table}")
    chart = os.path.join(args.out, f"performance{suffix}.png")
    if write_chart(chart, summary, configs):
        log(f"wrote {chart}")
    failed = [r for r in runs if r["result"] is None]
    if failed:
        log(f"{len(failed)} run(s) failed, e.g. {' '.join(failed[0]['cmd'])}: "
            f"{failed[0]['error']}")
    sgemm_best = {t: (max(rates[t].values()) if rates.get(t) else None) for t in THREADS}
    spreads = [v["spread"] for v in summary.values() if v["n"] > 1]
    return {"setting": setting, "info": info, "table": os.path.basename(table),
            "chart": os.path.basename(chart),
            "full": full_table(summary, configs, info, sgemm_best),
            "targets": targets_lines(targets(summary, configs, info)),
            "spread": statistics.median(spreads) if spreads else None,
            "raw": dict(raw, summary=[{"config": k[0], "impl": k[1], "threads": k[2],
                                       "lengths": k[3], **v}
                                      for k, v in sorted(summary.items())])}


DOC_BEGIN = "<!-- generated by bench/run_grid.py: do not edit by hand -->"
DOC_END = "<!-- end of the generated section -->"


def update_doc(path, sections):
    """Replaces the part of docs/PERFORMANCE.md between DOC_BEGIN and
    DOC_END with each grid's machine line, table, chart and targets."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        log(f"{path} has no generated section (markers {DOC_BEGIN!r} ... {DOC_END!r})")
        return
    L = [DOC_BEGIN, ""]
    for sec in sections:
        info = sec["info"]
        title = ("the machine's OpenBLAS settings" if sec["setting"] == "machine"
                 else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset")
        L.append(f"### With {title}")
        L.append("")
        spread = (f"; median spread of one run across repetitions "
                  f"{100 * sec['spread']:.0f}%" if sec["spread"] is not None else "")
        L.append(f"{info.get('cpu')}; elman's kernels: {info.get('elman_kernels')}; "
                 f"OpenBLAS: {info.get('openblas_env')}, core {info.get('openblas_core')}; "
                 f"FMA peak of a core: AVX2 {info.get('fma_avx2', 'n/a')}, AVX-512 "
                 f"{info.get('fma_avx512', 'n/a')} GFLOP/s; load average "
                 f"{info.get('load_before', float('nan')):.1f} before, "
                 f"{info.get('load_after', float('nan')):.1f} after{spread}. "
                 f"Full tables: [{sec['table']}]({sec['table']}).")
        L.append("")
        L.extend(sec["full"])
        L.append("")
        L.append(f"![ratios]({sec['chart']})")
        L.append("")
        L.extend(sec["targets"])
        L.append("")
    L.append(DOC_END)
    head, rest = text.split(DOC_BEGIN, 1)
    tail = rest.split(DOC_END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + "\n".join(L) + tail)


if __name__ == "__main__":
    main()
