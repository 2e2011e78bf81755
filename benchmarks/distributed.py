"""Data-parallel fit over MPI on this machine, and what it predicts for more ranks (issue 21).

    python benchmarks/distributed.py                  # launches mpiexec itself; about 2 minutes
    python benchmarks/distributed.py --markdown out.md

1. fit's step time for CATSDOGS-64 (benchmarks/models.py) at a global batch of 32 and 128 on 1, 2 and
   3 ranks (3 oversubscribes a 2-core machine), each rank on one thread, with the share of the step
   spent in the step's allreduce (fit's one allreduce of the gradients, timed inside the same run).
2. The allreduce alone: seconds for 1 to 64 MB on 2 ranks, hence a cost per MB on this machine's
   shared memory.
3. A model for p ranks on a network: step(p) = compute(batch / p) + allreduce, the ring allreduce
   moving 2 (p - 1) / p times the gradient bytes over the link, compute measured here on one rank at
   each per-rank batch. Each rank is assumed to be a machine like this one's single core.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def worker(spec):
    import minicnn as mc
    import models
    from minicnn import distributed
    distributed.init()
    mc.set_num_threads(1)
    model, _, _ = models.minicnn_model(1)
    model.compile(optimizer=mc.optimizers.SGD(0.01), loss=mc.losses.BinaryCrossentropy(from_logits=True))
    batch, steps = spec["batch"], spec["steps"]
    x, y = models.batch("minicnn", 1, batch * steps)
    reduce_seconds = []
    original = distributed.reduce_sums

    def timed(values):
        start = time.perf_counter()
        out = original(values)
        reduce_seconds.append(time.perf_counter() - start)
        return out
    distributed.reduce_sums = timed
    marks = []
    callback = mc.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: marks.append(time.perf_counter()))
    model.fit(x.numpy(), y.numpy().astype(np.float32), batch_size=batch, epochs=1, shuffle=False, verbose=0,
              callbacks=[callback])
    distributed.reduce_sums = original
    step_seconds = np.diff(marks)[2:]                       # the first steps touch fresh memory
    gradient_mb = sum(p.size for p in model.parameters()) * 8 / 2 ** 20
    result = {"ranks": distributed.world_size(), "batch": batch, "step": float(np.median(step_seconds)),
              "allreduce": float(np.median(reduce_seconds[3:])), "gradient_mb": gradient_mb}
    sizes = {}
    if spec.get("sizes"):
        for mb in (1, 4, 16, 64):
            buffer = np.ones(mb * 2 ** 20 // 8)
            distributed.reduce_sums(buffer)
            start = time.perf_counter()
            for _ in range(5):
                distributed.reduce_sums(buffer)
            sizes[mb] = (time.perf_counter() - start) / 5
        result["sizes"] = sizes
    if distributed.is_main():
        print(json.dumps(result))


def launch(ranks, spec):
    command = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
        command = [mpiexec, "-n", str(ranks)] + command[:1] + ["-m", "mpi4py"] + command[1:]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    lines = [f"Command: python benchmarks/distributed.py {' '.join(sys.argv[1:])}", "",
             "| global batch | ranks | step ms | images/s | allreduce ms (share of the step) |",
             "| --- | --- | --- | --- | --- |"]
    print("\n".join(lines), flush=True)
    measured = {}
    for batch in (32, 128):
        for ranks in (1, 2, 3):
            r = launch(ranks, {"batch": batch, "steps": args.steps, "sizes": ranks == 2 and batch == 32})
            measured[(batch, ranks)] = r
            share = f"{1e3 * r['allreduce']:.1f} ({r['allreduce'] / r['step']:.0%})" if ranks > 1 else "-"
            lines.append(f"| {batch} | {ranks} | {1e3 * r['step']:.1f} | {batch / r['step']:.0f} | {share} |")
            print(lines[-1], flush=True)
    first = len(lines)
    sizes = measured[(32, 2)]["sizes"]
    per_mb = np.polyfit([float(k) for k in sizes], list(sizes.values()), 1)
    gradient_mb = measured[(32, 1)]["gradient_mb"]
    lines += ["", "Allreduce on 2 ranks here: " + ", ".join(f"{k} MB {1e3 * v:.1f} ms" for k, v in sizes.items())
              + f"; {1e3 * per_mb[0]:.2f} ms per MB. fit's buffer: {gradient_mb:.1f} MB (float64 gradients).", ""]
    compute = {}
    for per_rank in (1, 2, 4, 8, 16, 32, 64, 128):
        compute[per_rank] = launch(1, {"batch": per_rank, "steps": max(args.steps, 6)})["step"]
    lines += ["Predicted step time and scaling efficiency (images/s per rank against one rank) at a global batch",
              "of 128, ring allreduce of the gradient buffer; compute(batch / p) measured on one rank here:", "",
              "| ranks | per-rank batch | compute ms | 10 Gb/s: step ms, efficiency | 100 Gb/s: step ms, efficiency |",
              "| --- | --- | --- | --- | --- |"]
    for p in (2, 4, 8, 16, 32, 64):
        per_rank = 128 // p
        cells = []
        for gbit in (10, 100):
            ring = 2 * (p - 1) / p * gradient_mb * 2 ** 20 * 8 / (gbit * 1e9)
            step = compute[per_rank] + ring
            cells.append(f"{1e3 * step:.1f}, {compute[128] / (p * step):.0%}")
        lines.append(f"| {p} | {per_rank} | {1e3 * compute[per_rank]:.1f} | {cells[0]} | {cells[1]} |")
    print("\n".join(lines[first:]), flush=True)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
