"""Data-parallel fit over MPI on this machine, and what it predicts for more ranks (issue 21).

    python benchmarks/distributed.py                  # launches mpiexec itself; about 6 minutes
    python benchmarks/distributed.py --markdown out.md

1. fit's step time for CATSDOGS-64 (benchmarks/models.py) at a global batch of 32 and 128 on 1, 2 and
   3 ranks (3 oversubscribes a 2-core machine), each rank on one thread, with the share of the step
   spent in the step's allreduce (fit's one allreduce of the gradients, timed inside the same run).
2. The allreduce alone: seconds for 1 to 64 MB on 2 ranks, hence a cost per MB on this machine's
   shared memory.
3. A model for p ranks on a network: step(p) = compute(batch / p) + allreduce, the ring allreduce
   moving 2 (p - 1) / p times the gradient bytes over the link, compute measured here on one rank at
   each per-rank batch. Each rank is assumed to be a machine like this one's single core. For
   CATSDOGS-64 and the examples' own networks (aerial_scenes' residual network, cats_dogs' at 96 px).
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


NETWORKS = {"catsdogs": "CATSDOGS-64", "aerial": "aerial_scenes at 64 px", "cats96": "cats_dogs at 96 px"}


def network(name, images):
    """(compiled model, x, y): CATSDOGS-64 (benchmarks/models.py, SGD) or an example's own network
    (examples/aerial_scenes.py, examples/cats_dogs.py, with their augmentation; Adam), random images."""
    import minicnn as mc
    import models
    if name == "catsdogs":
        model, _, _ = models.minicnn_model(1)
        model.compile(optimizer=mc.optimizers.SGD(0.01), loss=mc.losses.BinaryCrossentropy(from_logits=True))
        x, y = models.batch("minicnn", 1, images)
        return model, x.numpy(), y.numpy().astype(np.float32)
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    rng = np.random.default_rng(0)
    size, classes = (64, 21) if name == "aerial" else (96, 1)
    x = rng.integers(0, 256, (images, 3, size, size)).astype(np.uint8)
    y = rng.integers(0, max(classes, 2), images)
    if name == "aerial":
        from aerial_scenes import build_model
        model = build_model(mc.data.as_dataset(x, y), size, classes)
        loss = mc.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        from cats_dogs import build_model
        model = build_model(mc.data.as_dataset(x, y), size)
        loss, y = mc.losses.BinaryCrossentropy(from_logits=True), y.astype(np.float32)
    model.compile(optimizer=mc.optimizers.Adam(1e-3), loss=loss)
    return model, x, y


def worker(spec):
    import minicnn as mc
    from minicnn import distributed
    distributed.init()
    mc.set_num_threads(1)
    batch, steps = spec["batch"], spec["steps"]
    model, x, y = network(spec.get("model", "catsdogs"), batch * steps)
    exchange_seconds = []
    original = distributed.reduce_gradients

    def timed(*args, **kwargs):             # fit's one exchange a step: pack, allreduce, unpack
        start = time.perf_counter()
        out = original(*args, **kwargs)
        exchange_seconds.append(time.perf_counter() - start)
        return out
    distributed.reduce_gradients = timed
    marks = []
    callback = mc.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: marks.append(time.perf_counter()))
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    distributed.reduce_gradients = original
    step_seconds = np.diff(marks)[2:]                       # the first steps touch fresh memory
    gradient_mb = sum(p.size for p in model.trainable_weights) * 8 / 2 ** 20
    result = {"ranks": distributed.world_size(), "batch": batch, "step": float(np.median(step_seconds)),
              "allreduce": float(np.median(exchange_seconds[3:])) if exchange_seconds else 0.0,
              "gradient_mb": gradient_mb}
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
    parser.add_argument("--steps", type=int, default=10, help="steps per measurement, at least 6 (default 10)")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128], help="global batches (default 32 128)")
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS),
                        help="the networks of the scaling model (default: all three)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    if args.steps < 6:
        parser.error(f"--steps must be at least 6 (the first 3 are left out), got {args.steps}")
    lines = [f"Command: python benchmarks/distributed.py {' '.join(sys.argv[1:])}", "",
             "| global batch | ranks | step ms | images/s | allreduce ms (share of the step) |",
             "| --- | --- | --- | --- | --- |"]
    print("\n".join(lines), flush=True)
    measured = {}
    for batch in args.batches:
        for ranks in (1, 2, 3):
            r = launch(ranks, {"batch": batch, "steps": args.steps, "sizes": ranks == 2 and batch == args.batches[0]})
            measured[(batch, ranks)] = r
            share = f"{1e3 * r['allreduce']:.1f} ({r['allreduce'] / r['step']:.0%})" if ranks > 1 else "-"
            lines.append(f"| {batch} | {ranks} | {1e3 * r['step']:.1f} | {batch / r['step']:.0f} | {share} |")
            print(lines[-1], flush=True)
    first = len(lines)
    sizes = measured[(args.batches[0], 2)]["sizes"]
    per_mb = np.polyfit([float(k) for k in sizes], list(sizes.values()), 1)
    gradient_mb = measured[(args.batches[0], 1)]["gradient_mb"]
    lines += ["", "Allreduce on 2 ranks here: " + ", ".join(f"{k} MB {1e3 * v:.1f} ms" for k, v in sizes.items())
              + f"; {1e3 * per_mb[0]:.2f} ms per MB. fit's buffer: {gradient_mb:.1f} MB (float64 gradients).", ""]
    ranks_modelled = (2, 4, 8, 16, 32, 64)
    lines += ["Predicted scaling efficiency (images/s per rank against one rank) at the global batches above (the",
              "examples' is 32): step(p) = compute(batch / p), measured on one rank here, + a ring allreduce of",
              "the float64 gradient buffer over a 10 Gb/s / 100 Gb/s link. Each cell: 10 Gb/s / 100 Gb/s.", "",
              "| network (gradient buffer) | global batch | " + " | ".join(f"{p} ranks" for p in ranks_modelled) + " |",
              "| --- | --- | " + " | ".join("---" for _ in ranks_modelled) + " |"]
    notes = []
    for name in args.networks:
        compute = {}
        for per_rank in [2 ** k for k in range(max(args.batches).bit_length()) if 2 ** k <= max(args.batches)]:
            r = launch(1, {"batch": per_rank, "steps": args.steps, "model": name})
            compute[per_rank], mb = r["step"], r["gradient_mb"]
        for batch in args.batches:
            cells = []
            for p in ranks_modelled:
                if batch // p not in compute:
                    cells.append("-")
                    continue
                steps = [compute[batch // p] + 2 * (p - 1) / p * mb * 2 ** 20 * 8 / (gbit * 1e9) for gbit in (10, 100)]
                cells.append(" / ".join(f"{compute[batch] / (p * step):.0%}" for step in steps))
            lines.append(f"| {NETWORKS[name]} ({mb:.1f} MB) | {batch} | " + " | ".join(cells) + " |")
        notes.append(f"{NETWORKS[name]}: one rank's step, ms, at {min(compute)}-{max(compute)} images: "
                     + ", ".join(f"{k}: {1e3 * v:.0f}" for k, v in compute.items()) + ".")
    lines += [""] + notes
    print("\n".join(lines[first:]), flush=True)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
