"""minicnn's speed on this machine, against NumPy's matrix product and (where importable) PyTorch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench.py   # as RESULTS.md (README.md)
    python benchmarks/bench.py                 # everything; about 6 minutes on 2 cores
    python benchmarks/bench.py --quick         # fewer steps and no scaling study
    python benchmarks/bench.py --markdown benchmarks/RESULTS-speed.md

For CATSDOGS-64 and UCMERCED-64 (benchmarks/models.py) at batch 32 and 128 it
times a training step (forward + backward + SGD step) and inference: warm-up,
then the median and the spread (min-max) of --steps steps. Each measurement
runs in a fresh process, which also reports its peak memory (the peak resident
set during the steps, warm-up included, less the resident set just before them);
minicnn and PyTorch processes alternate,
three times each, with the same thread count. Rates are given as images/s, GFLOP/s
and the share of the float32 matrix-product rate NumPy sustains here,
measured in the same run. Then where minicnn's training step spends its time (profile_step.py)
and how time per image scales with batch size and image side.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# --- one measurement, in its own process ---

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes():
    """This process's resident-set high-water mark. (Not ru_maxrss: Linux carries the parent's
    high-water mark over fork + exec into it.)"""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def worker(spec):
    """Time `steps` steps of one configuration; print a JSON line."""
    import models
    framework, name, batch_size, mode = spec["framework"], spec["model"], spec["batch"], spec["mode"]
    side, outputs = spec.get("side", 64), models.MODELS[name]
    if framework == "torch":
        import torch
        torch.set_num_threads(spec["threads"])
    else:
        import minicnn as mc
        mc.set_num_threads(spec["threads"])
    build = models.torch_model if framework == "torch" else models.minicnn_model
    _, train_step, infer = build(outputs, side)
    x, y = models.batch(framework, outputs, batch_size, side)
    step = (lambda: train_step(x, y)) if mode == "train" else (lambda: infer(x))
    baseline = rss_bytes()      # before the first step: a caching allocator's warm-up counts too
    for _ in range(spec["warmup"]):
        step()
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = peak_rss_bytes()
    print(json.dumps({**spec, "times": times, "step_memory": max(peak - baseline, 0), "baseline_rss": baseline}))


def measure(spec):
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True,
                         env=os.environ)
    if out.returncode:
        raise RuntimeError(f"worker {spec} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- references ---

def matmul_rate(repeat=10, n=2048):
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / float(np.median(times)) / 1e9


def torch_available():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = f"Python {platform.python_version()}, NumPy {np.__version__}"
    if torch_available():
        import torch
        versions += f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    return f"{cpu}, {os.cpu_count()} cores; {versions}; {blas()}"


def blas():
    """Which BLAS kernel NumPy runs: OPENBLAS_CORETYPE pins one (an old-CPU safety setting on some
    machines, which halves the float32 rate of an AVX-512 CPU); threadpoolctl, if present, says."""
    try:
        from threadpoolctl import threadpool_info
        info = [f"{i['internal_api']} {i.get('version')} kernel {i.get('architecture')}, {i['num_threads']} threads"
                for i in threadpool_info() if i["user_api"] == "blas"]
    except ImportError:
        info = ["BLAS kernel: install threadpoolctl to see it"]
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    return "; ".join(info + [f"OPENBLAS_CORETYPE={pinned} (pinned)" if pinned else "OPENBLAS_CORETYPE unset"])


# --- the studies ---

def compare(args, gflops_ref, lines):
    import models
    frameworks = ["minicnn"] + (["torch"] if torch_available() and not args.no_torch else [])
    lines.append("| model | batch | pass | minicnn ms (min-max) | img/s | GFLOP/s | of matmul | step memory MB |"
                 + (" PyTorch ms (min-max) | PyTorch MB | time ratio | memory ratio |" if len(frameworks) == 2 else ""))
    lines.append("|" + "---|" * (8 + 4 * (len(frameworks) == 2)))
    for name in models.MODELS:
        for batch in args.batches:
            for mode in ("train", "infer"):
                results = {f: [] for f in frameworks}
                for _ in range(args.alternations):       # alternate: minicnn, torch, minicnn, torch, ...
                    for f in frameworks:
                        results[f].append(measure({"framework": f, "model": name, "batch": batch, "mode": mode,
                                                   "steps": args.steps, "warmup": 2, "threads": os.cpu_count()}))
                row = summarize(results, name, batch, mode, gflops_ref)
                lines.append(row)
                print(row, flush=True)


def summarize(results, name, batch, mode, gflops_ref):
    import models
    outputs = models.MODELS[name]
    flops = (models.training_flops if mode == "train" else models.forward_flops)(64, batch, outputs)
    times = {f: np.array(sum((r["times"] for r in rs), [])) for f, rs in results.items()}
    memory = {f: min(r["step_memory"] for r in rs) / 2 ** 20 for f, rs in results.items()}
    t = times["minicnn"]
    med = float(np.median(t))
    row = (f"| {name} | {batch} | {mode} | {med * 1e3:.1f} ({t.min() * 1e3:.1f}-{t.max() * 1e3:.1f}) | "
           f"{batch / med:.0f} | {flops / med / 1e9:.1f} | {flops / med / 1e9 / gflops_ref:.0%} | "
           f"{memory['minicnn']:.0f} |")
    if "torch" in times:
        tt = float(np.median(times["torch"]))
        spread = f"{times['torch'].min() * 1e3:.1f}-{times['torch'].max() * 1e3:.1f}"
        row += (f" {tt * 1e3:.1f} ({spread}) | {memory['torch']:.0f} | {med / tt:.2f} | "
                f"{memory['minicnn'] / max(memory['torch'], 1e-9):.2f} |")
    return row


def breakdown_table(args, lines):
    """profile_step.py's table: where a CATSDOGS-64 training step's time goes, at batch 32."""
    command = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "profile_step.py"),
               "--batch", "32"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()
    lines += out
    print("\n".join(out), flush=True)


def scaling(args, lines):
    """Time per image as the batch grows, and as the image side grows; memory against activations."""
    lines.append("| side | batch | train ms/image | step memory MB | activations MB | memory / activations |")
    lines.append("|---|---|---|---|---|---|")
    for side, batch in [(64, 8), (64, 32), (64, 128), (32, 32), (128, 32)]:
        r = measure({"framework": "minicnn", "model": "CATSDOGS-64", "batch": batch, "mode": "train",
                     "steps": max(3, args.steps // 2), "warmup": 1, "side": side, "threads": os.cpu_count()})
        # float32 outputs of every layer up to the dense part (conv, relu, pool per block)
        activations = sum(batch * c * (side // 2 ** b) ** 2 * (2 + 0.25) for b, c in enumerate((32, 64, 128))) * 4
        mem = r["step_memory"] / 2 ** 20
        row = (f"| {side} | {batch} | {np.median(r['times']) / batch * 1e3:.2f} | {mem:.0f} | "
               f"{activations / 2 ** 20:.0f} | {mem / (activations / 2 ** 20):.1f} |")
        lines.append(row)
        print(row, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per measurement (default 10)")
    parser.add_argument("--quick", action="store_true", help="5 steps, no scaling study")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128], help="batch sizes (default 32 128)")
    parser.add_argument("--alternations", type=int, default=3,
                        help="processes per library and cell, alternating (default 3)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch columns")
    parser.add_argument("--markdown", default=None, help="also write the tables to this file")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    if args.quick:
        args.steps = 5
    lines = [f"Machine: {machine()}", "", f"Command: python benchmarks/bench.py {' '.join(sys.argv[1:])}", ""]
    gflops = matmul_rate()
    lines += [f"NumPy float32 matmul (2048^3): {gflops:.1f} GFLOP/s", ""]
    print("\n".join(lines), flush=True)
    compare(args, gflops, lines)
    lines.append("")
    breakdown_table(args, lines)
    if not args.quick:
        lines.append("")
        scaling(args, lines)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
