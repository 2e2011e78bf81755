"""How far the leak between neighbouring UC Merced tiles reaches (issue 18, point 1).

Trains examples/aerial_scenes.py's network and recipe on one block of image numbers
and scores every other image, grouped by its distance (in image numbers) from the
nearest training image. Tiles just past the training block are pieces of the scenes
the block ends with, so accuracy is high there and falls with distance until it
levels off: where it levels off is the range of the leak, and a test block needs a
buffer at least that wide.

    python benchmarks/leak.py --data ../shared/data/ucmerced                 # both directions
    python benchmarks/leak.py --data ../shared/data/ucmerced --plot docs/images/leak_curve.png

forward trains on images 00-39 and scores 40-79 (distances 1-40); backward trains on
40-79 and scores 00-39. Results (one row per block of --block distances, each
direction and their mean) go to --out as JSON; --plot draws the curve.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import minicnn as mc  # noqa: E402
from aerial_scenes import build_model, predict_all_symmetries, train_model  # noqa: E402


def arguments():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/data/ucmerced", help="UC Merced, one folder per class")
    p.add_argument("--directions", default="forward,backward", help="forward, backward or both (comma-separated)")
    p.add_argument("--epochs", type=int, default=36, help="the example's default")
    p.add_argument("--lr", type=float, default=3e-3, help="the example's default")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--block", type=int, default=5, help="distances per row of the curve")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="benchmarks/leak.json")
    p.add_argument("--plot", default=None, help="a PNG of the curve")
    p.add_argument("--from-json", action="store_true", help="only redraw --plot from --out")
    return p.parse_args()


def distances(scenes, training):
    """Each image's distance in image numbers from the nearest number in `training` (0: trained on)."""
    numbers = np.array([mc.data.file_number(p) for p in scenes.file_paths])
    trained = np.array(sorted(training))
    return np.abs(numbers[:, None] - trained[None, :]).min(axis=1)


def one_direction(scenes, name, training, a):
    mc.manual_seed(a.seed)
    distance = distances(scenes, training)
    train = scenes.subset(np.flatnonzero(distance == 0))
    model = build_model(train, a.image_size, len(scenes.class_names))
    start = time.perf_counter()
    train_model(model, train, None, a.epochs, a.lr, a.batch_size, verbose=2)
    minutes = (time.perf_counter() - start) / 60
    others = scenes.subset(np.flatnonzero(distance > 0))
    d = distance[distance > 0]
    right_plain = model.predict(others.images, a.batch_size).argmax(axis=1) == others.labels
    right = predict_all_symmetries(model, others.images, a.batch_size).argmax(axis=1) == others.labels
    rows = []
    for low in range(1, int(d.max()) + 1, a.block):
        inside = (d >= low) & (d < low + a.block)
        rows.append({"distances": [low, low + a.block - 1], "images": int(inside.sum()),
                     "accuracy": float(right[inside].mean()), "accuracy_plain": float(right_plain[inside].mean())})
    print(f"{name}: trained on {len(train)} images in {minutes:.1f} min; train accuracy "
          f"{float(np.mean(model.predict(train.images).argmax(1) == train.labels)):.1%}")
    for row in rows:
        print(f"  distance {row['distances'][0]:2}-{row['distances'][1]:2}: {row['accuracy']:.1%} "
              f"(as they are {row['accuracy_plain']:.1%}), {row['images']} images")
    return {"training": [int(min(training)), int(max(training))], "minutes": round(minutes, 2), "rows": rows}


def plot(results, path):
    from matplotlib.figure import Figure       # no pyplot: the caller's backend is left alone
    figure = Figure(figsize=(6, 3.5))
    ax = figure.subplots()
    for name, run in results["directions"].items():
        x = [np.mean(r["distances"]) for r in run["rows"]]
        ax.plot(x, [100 * r["accuracy"] for r in run["rows"]], "o-", alpha=0.5,
                label=f"{name}: trained on {run['training'][0]:02d}-{run['training'][1]:02d}")
    mean = results["mean"]
    ax.plot([np.mean(r["distances"]) for r in mean], [100 * r["accuracy"] for r in mean], "k-", lw=2, label="mean")
    ax.set_xlabel("distance from the nearest training image (image numbers)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("UC Merced: the leak between neighbouring tiles")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    tmp = path + ".tmp.png"
    figure.savefig(tmp, dpi=100)
    os.replace(tmp, path)
    print(f"saved {path}")


def main():
    a = arguments()
    if a.from_json:
        with open(a.out) as f:
            plot(json.load(f), a.plot)
        return
    scenes = mc.datasets.uc_merced(root=a.data, image_size=(a.image_size, a.image_size))
    numbers = sorted({mc.data.file_number(p) for p in scenes.file_paths})
    half = numbers[len(numbers) // 2]
    blocks = {"forward": [n for n in numbers if n < half], "backward": [n for n in numbers if n >= half]}
    results = {"command": " ".join(["python"] + sys.argv), "epochs": a.epochs, "image_size": a.image_size,
               "directions": {}}
    for name in a.directions.split(","):
        results["directions"][name] = one_direction(scenes, name, blocks[name], a)
    runs = list(results["directions"].values())
    results["mean"] = [{"distances": rows[0]["distances"], "images": sum(r["images"] for r in rows),
                        "accuracy": float(np.average([r["accuracy"] for r in rows],
                                                     weights=[r["images"] for r in rows])),
                        "accuracy_plain": float(np.average([r["accuracy_plain"] for r in rows],
                                                           weights=[r["images"] for r in rows]))}
                       for rows in zip(*(run["rows"] for run in runs))]
    print("mean:")
    for row in results["mean"]:
        print(f"  distance {row['distances'][0]:2}-{row['distances'][1]:2}: {row['accuracy']:.1%}")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, a.out)
    if a.plot:
        plot(results, a.plot)


if __name__ == "__main__":
    main()
