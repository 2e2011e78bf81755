"""The ablation table of benchmarks/RESULTS.md from benchmarks/ablation.jsonl: one row per recipe.

    python benchmarks/ablation_table.py aerial            # or cats; --log another file

A row shows the recipe's arguments (those that differ from ablation.py's defaults), each fold's
accuracy (8-symmetry average for aerial, mirror-averaged for cats), their mean and spread, the
difference from the first recipe on the same folds (the folds differ more from each other than the
recipes do), and the final test accuracy where that recipe was also run with --final 1 (scored once, never to choose).
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ablation import arguments  # noqa: E402

RUN_ONLY = {"cv", "final", "log", "threads", "mode", "folds", "data_root", "task"}     # not part of a recipe


def recipe(run, defaults):
    """The arguments of a run that differ from the defaults, as a command line's tail."""
    parts = [f"--{k.replace('_', '-')} {v}" for k, v in run.items()
             if k in defaults and k not in RUN_ONLY and v != defaults[k]]
    return " ".join(parts) or "(defaults)"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=("aerial", "cats"))
    p.add_argument("--log", default="benchmarks/ablation.jsonl")
    a = p.parse_args()
    sys.argv = ["ablation.py", a.task]
    defaults = vars(arguments())
    key = "acc_d4" if a.task == "aerial" else "acc_flip"
    with open(a.log) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    runs = [r for r in runs if r["task"] == a.task]
    finals = {recipe(r, defaults): r for r in runs if r["mode"] == "final"}
    print(f"| recipe (ablation.py {a.task} ...) | folds: trained on / scored | fold accuracies | mean (sd) | "
          f"against the first row, fold by fold | final test |")
    print("| --- | --- | --- | --- | --- | --- |")
    first = None
    for run in (r for r in runs if r["mode"] == "cv"):
        name = recipe(run, defaults)
        accuracies = [f[key] for f in run["folds"]]
        first = first or accuracies
        differences = [mine - theirs for mine, theirs in zip(accuracies, first)]
        paired = (f"{statistics.mean(differences):+.1%} (from {min(differences):+.1%} to {max(differences):+.1%})"
                  if accuracies is not first else "-")
        sizes = "/".join(str(f["train_images"]) for f in run["folds"])
        final = finals.get(name)
        final_text = f"{final[key]:.1%} ({final['minutes']:.1f} min)" if final else "-"
        print(f"| `{name}` | {sizes} / {run['folds'][0]['test_images']} each | "
              f"{', '.join(f'{x:.1%}' for x in accuracies)} | **{statistics.mean(accuracies):.1%}** "
              f"({statistics.pstdev(accuracies):.1%}) | {paired} | {final_text} |")


if __name__ == "__main__":
    main()
