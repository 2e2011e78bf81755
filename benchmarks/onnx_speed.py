"""Each example's saved model against its ONNX export in onnxruntime (CPU): the largest difference
between the outputs, and the inference time at batch 1 and 32 (issue 22).

    python benchmarks/onnx_speed.py runs/cats_dogs/model.npz runs/aerial_scenes/model.npz

Both run on the same number of threads (minicnn's, onnxruntime's intra-op pool); each time is the
median of --repeats calls after two warm-up calls, on random images of the model's input size.
"""

import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def median_seconds(call, repeats):
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="saved models (.npz), e.g. runs/cats_dogs/model.npz")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    import onnxruntime as ort

    import minicnn as mc
    threads = mc.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    lines = [f"Command: python benchmarks/onnx_speed.py {' '.join(os.path.relpath(m) for m in args.models)}; "
             f"onnxruntime {ort.__version__}, {threads} threads each", "",
             "| model | largest difference (32 images) | largest output | batch 1: minicnn / onnxruntime ms | "
             "batch 32: minicnn / onnxruntime ms |", "| --- | --- | --- | --- | --- |"]
    rng = np.random.default_rng(0)
    for path in args.models:
        model = mc.load_model(path)
        with tempfile.TemporaryDirectory() as folder:
            exported = mc.onnx.export(model, os.path.join(folder, "model.onnx"))
            session = ort.InferenceSession(exported, options, providers=["CPUExecutionProvider"])
        images = rng.uniform(0, 255, (32, *model.input_shape)).astype(np.float32)
        expected = model.predict(images)
        difference = float(np.abs(session.run(None, {"input": images})[0] - expected).max())
        cells = []
        for batch in (1, 32):
            x = images[:batch]
            mine = median_seconds(lambda m=model, x=x, b=batch: m.predict(x, batch_size=b), args.repeats)
            theirs = median_seconds(lambda s=session, x=x: s.run(None, {"input": x}), args.repeats)
            cells.append(f"{1e3 * mine:.1f} / {1e3 * theirs:.1f}")
        lines.append(f"| {os.path.relpath(path)} | {difference:.1e} | {np.abs(expected).max():.3g} | {cells[0]} | "
                     f"{cells[1]} |")
        print(lines[-1], flush=True)
    print("\n".join(lines))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
