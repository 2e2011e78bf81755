"""Mutation testing of minicnn: plant one small bug at a time, run the tests that exercise that
file, and count how many bugs the tests catch (issue 17, point 6). Standard library only.

    nice -n 19 python benchmarks/mutation.py --out mutation.json              # every mutant
    nice -n 19 python benchmarks/mutation.py --sample 40 --seed 0 \\
        --full minicnn/optimizers.py --full minicnn/models/training.py         # docs/mutation.md's run
    python benchmarks/mutation.py --list --only minicnn/ops/conv.py           # the mutants, not run

Each mutant changes one AST node of one target file:
  arithmetic   + <-> -, * <-> /, // -> /, % -> /, ** -> *, & <-> |
  comparison   < <-> <=, > <-> >=, == <-> !=, is <-> is not, in <-> not in
  boolean      and <-> or; `not x` -> x; unary `-x` -> x
  constant     0 -> 1, 1 -> 0, other ints n -> n + 1, floats 0.0 -> 1.0 and c -> 1.5 c, True <-> False
  augmented    += <-> -=, *= <-> /=, or the whole statement -> pass
  keyword      one keyword argument dropped from a call (the callee's default applies instead)
Not mutated: strings (docstrings, messages), anything inside a `raise` statement, an f-string,
or a call to print() or warnings.warn() (messages, not behaviour).

The mutated node's source span is replaced by ast.unparse of the mutated node (line count kept, so
tracebacks still point at the right line), and the result is checked to parse to exactly the
mutated tree. Every run happens in a private copy of the committed tree (`git archive HEAD`), never
in the working tree: the mutated file is written there, the mapped test files run with
`python -m pytest -x -q -p no:cacheprovider` and a timeout, and the file is restored. Before the
mutants, the mapped tests run once unmutated (they must pass; their time sets the timeout) under a
line tracer (sys.settrace), and mutants on lines those tests never execute are reported as
"not covered" survivors without running them.

Statuses: killed (a test failed, or the module no longer imports), timeout (counted as caught),
survived, not covered (a survivor too).
"""

import argparse
import ast
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TREE = Path(tempfile.gettempdir()) / "mutation" / "tree"

# Each target and the test files that exercise it (found by grepping the tests for the target's
# functions and layers), fastest and most specific first: with -x the first failure ends the run.
CONFORMANCE = "tests/conformance/"
OPS, DATA = "tests/test_op_details.py", "tests/test_data_details.py"     # added with this harness
TARGETS = {
    "minicnn/backend/base.py": ["tests/test_backend_contract.py", "tests/test_conv.py", "tests/test_pool.py",
                                "tests/test_activation.py", "tests/test_layers.py", CONFORMANCE + "test_torch_ops.py"],
    "minicnn/backend/cpu.py": ["tests/test_backend_contract.py", "tests/test_backend.py", "tests/test_conv.py",
                               "tests/test_pool.py", CONFORMANCE + "test_torch_ops.py"],
    "minicnn/models/console.py": ["tests/test_fit_loop.py", "tests/test_training.py"],
    "minicnn/ops/activation.py": ["tests/test_activation.py", "tests/test_backend.py", "tests/test_loss.py",
                                  CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/concat.py": ["tests/test_model.py", OPS],
    "minicnn/ops/conv.py": ["tests/test_conv.py", "tests/test_layers.py", OPS, CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/dropout.py": ["tests/test_dense.py", "tests/test_layers.py", CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/im2col.py": ["tests/test_conv.py", "tests/test_pool.py", OPS, CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/linear.py": ["tests/test_dense.py", OPS, CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/loss.py": ["tests/test_loss.py", "tests/test_training.py", OPS, "tests/test_gpu.py",
                            CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/normalization.py": ["tests/test_layers.py", CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/pool.py": ["tests/test_pool.py", "tests/test_backend.py", CONFORMANCE + "test_torch_ops.py"],
    "minicnn/ops/sampling.py": ["tests/test_augmentation.py", OPS],
    "minicnn/autograd.py": ["tests/test_tensor.py", "tests/test_activation.py", CONFORMANCE + "test_torch_tensor.py",
                            CONFORMANCE + "test_torch_training.py"],
    "minicnn/optimizers.py": ["tests/test_optimizers.py", "tests/test_update_rules.py", "tests/test_errors.py",
                              "tests/test_binding.py", "tests/test_keras_rules.py", "tests/test_saving.py",
                              CONFORMANCE + "test_torch_training.py"],
    "minicnn/models/training.py": ["tests/test_training.py", "tests/test_fit_loop.py", "tests/test_errors.py",
                                   "tests/test_keras_rules.py", "tests/test_binding.py", "tests/test_model.py",
                                   "tests/test_mixup.py", "tests/test_data.py"],
    "minicnn/data/dataset.py": ["tests/test_data.py", "tests/test_mixup.py", "tests/test_training.py",
                                "tests/test_fit_loop.py", DATA],
    "minicnn/data/folder.py": ["tests/test_data.py", "tests/test_split.py", DATA],
    "minicnn/data/mixup.py": ["tests/test_mixup.py", DATA],
    "minicnn/data/split.py": ["tests/test_split.py", "tests/test_data.py", DATA],
}
# ops/__init__.py and data/__init__.py only import names: nothing to mutate.

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
          ast.Mod: ast.Div, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
          ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
AUGOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
          ast.BitAnd: "&", ast.BitOr: "|", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
          ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
          ast.And: "and", ast.Or: "or"}
QUIET_CALLS = {"print", "warn"}      # print(...), warnings.warn(...): messages


# --- finding the mutants ---

def _is_text(node):
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _quiet_call(node):
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name in QUIET_CALLS


def _skipped(node):
    """Subtrees never mutated: raise statements, f-strings, print/warn calls."""
    return isinstance(node, (ast.Raise, ast.JoinedStr)) or (isinstance(node, ast.Call) and _quiet_call(node))


def _candidate_nodes(tree):
    """Every node of the tree outside the skipped subtrees, in a fixed (depth-first) order."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _skipped(node):
            continue
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _required_keywords(tree):
    """{function name: its parameters without a default} for the functions the file defines: dropping
    such a keyword from a call is a TypeError at once, not a plausible bug, so it is not a mutant."""
    required = {}
    for f in ast.walk(tree):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = f.args
            positional = a.posonlyargs + a.args
            names = [p.arg for p in positional[:len(positional) - len(a.defaults)]]
            names += [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
            required[f.name] = set(names)
    return required


def _changes(node, required=None):
    """(description, function that makes the mutated copy of node) for each mutation of node."""
    def with_fields(**fields):
        def make():
            new = copy.deepcopy(node)
            for key, value in fields.items():
                setattr(new, key, value)
            return new
        return make

    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS and not (_is_text(node.left) or _is_text(node.right)):
        new = BINOPS[type(node.op)]
        yield f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}", with_fields(op=new())
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in CMPOPS:
                new = CMPOPS[type(op)]
                ops = node.ops[:i] + [new()] + node.ops[i + 1:]
                yield f"{SYMBOL[type(op)]} -> {SYMBOL[new]}", with_fields(ops=ops)
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{SYMBOL[type(node.op)]} -> {SYMBOL[new]}", with_fields(op=new())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield ("not x -> x" if isinstance(node.op, ast.Not) else "-x -> x"), lambda: copy.deepcopy(node.operand)
    elif isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
        value = node.value
        if isinstance(value, bool):
            new = not value
        elif isinstance(value, int):
            new = {0: 1, 1: 0}.get(value, value + 1)
        else:
            new = 1.0 if value == 0.0 else value * 1.5
        yield f"{value!r} -> {new!r}", with_fields(value=new)
    elif isinstance(node, ast.AugAssign):
        if type(node.op) in AUGOPS:
            new = AUGOPS[type(node.op)]
            yield f"{SYMBOL[type(node.op)]}= -> {SYMBOL[new]}=", with_fields(op=new())
        yield "augmented assignment -> pass", lambda: ast.Pass()
    elif isinstance(node, ast.Call):
        local = required.get(node.func.id, set()) if required and isinstance(node.func, ast.Name) else set()
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None and keyword.arg not in local:
                yield f"drop {keyword.arg}=", with_fields(keywords=node.keywords[:i] + node.keywords[i + 1:])


def _splice(source, node, new_node):
    """source with node's span replaced by new_node's text; the number of lines is kept."""
    lines = source.encode().splitlines(keepends=True)        # ast offsets count UTF-8 bytes
    start = sum(map(len, lines[:node.lineno - 1])) + node.col_offset
    end = sum(map(len, lines[:node.end_lineno - 1])) + node.end_col_offset
    extra = "\n" * (node.end_lineno - node.lineno)
    if isinstance(node, ast.stmt):
        text = ast.unparse(new_node) + extra      # blank lines after a statement are harmless
    else:
        text = f"({ast.unparse(new_node)}{extra})"  # newlines inside brackets are too
    data = source.encode()
    return (data[:start] + text.encode() + data[end:]).decode()


def mutants_of(path, source):
    """Every mutant of one file: dicts with id, file, line, operator, before/after and the new source."""
    tree = ast.parse(source)
    nodes = list(_candidate_nodes(tree))
    required = _required_keywords(tree)
    found = []
    for index, node in enumerate(nodes):
        for description, make in _changes(node, required):
            new_node = make()
            mutated = _splice(source, node, new_node)
            # the text must parse to the tree with exactly this node replaced
            expected = copy.deepcopy(tree)
            target = list(_candidate_nodes(expected))[index]
            _replace(expected, target, new_node)
            if ast.dump(ast.parse(mutated)) != ast.dump(expected):
                print(f"warning: {path}:{node.lineno} {description}: splice does not match, skipped", file=sys.stderr)
                continue
            found.append({"id": f"{path}:{len(found)}", "file": path, "line": node.lineno,
                          "end_line": node.end_lineno, "operator": description,
                          "before": ast.get_source_segment(source, node).split("\n")[0][:100],
                          "after": ast.unparse(new_node).split("\n")[0][:100], "source": mutated})
    return found


def _replace(tree, target, new_node):
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new_node)
                return
            if isinstance(value, list) and any(v is target for v in value):
                setattr(parent, field, [new_node if v is target else v for v in value])
                return
    raise AssertionError("node not found")


# --- running them ---

TRACER = r"""
import json, sys, threading
target, out = sys.argv[1], sys.argv[2]
lines = set()
def local(frame, event, arg):
    if event == "line":
        lines.add(frame.f_lineno)
    return local
def calls(frame, event, arg):
    if frame.f_code.co_filename == target:
        lines.add(frame.f_lineno)
        return local
sys.settrace(calls)
threading.settrace(calls)
import pytest
code = pytest.main(sys.argv[3:])
sys.settrace(None)
json.dump(sorted(lines), open(out, "w"))
sys.exit(int(code))
"""


# Loaded into every pytest run (-p): the tests' own Hypothesis profile, without the shrink and explain
# phases. The same examples are drawn (the "ci" profile is derandomized), so a mutant fails exactly
# when it would otherwise; only the minimal failing example, which nobody reads here, is not sought.
PLUGIN = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    try:
        from hypothesis import Phase, settings
    except ImportError:
        return
    settings.register_profile("mutation", parent=settings.default,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.load_profile("mutation")
"""


def refresh(tree, revision="HEAD"):
    """A fresh copy of a committed tree (git archive HEAD) at `tree`, with its commit noted."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{revision}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        sys.exit(f"git archive {commit} failed")
    (tree / ".mutation-commit").write_text(commit)


def committed(tree, path):
    """path's text at the commit the copy was made from (the copy's own file may hold a mutant
    left by a harness that was killed)."""
    commit = (tree / ".mutation-commit").read_text()
    return subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{path}"], capture_output=True, text=True,
                          check=True).stdout


def plugin_dir(tree):
    return tree.parent / "plugin"


def environment(tree):
    env = dict(os.environ)
    env.update(PYTHONPATH=os.pathsep.join([str(tree), str(plugin_dir(tree))]),
               PYTHONDONTWRITEBYTECODE="1",   # no stale .pyc of a mutant the same size as the original
               HYPOTHESIS_PROFILE="ci", KERAS_BACKEND="torch")
    return env


def check_imports_from(tree):
    code = "import minicnn; print(minicnn.__file__)"
    where = subprocess.run([sys.executable, "-c", code], cwd=tree, env=environment(tree), capture_output=True,
                           text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(tree.resolve()):
        sys.exit(f"minicnn imports from {where}, not from the copy {tree}")
    print(f"minicnn imports from the copy: {where}")


def _ctrl_c_as_usual():
    """A harness started in the background (`cmd &`) ignores SIGINT, and its children would inherit that:
    the tests of fit's Ctrl-C handling need Python's usual KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_tests(tree, tests, timeout, tracer_args=None):
    """pytest's exit code for the test files (None after a timeout), and the seconds taken."""
    pytest_args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "mutation_plugin", *tests]
    command = ([sys.executable, "-c", TRACER, *tracer_args, *pytest_args] if tracer_args
               else [sys.executable, "-m", "pytest", *pytest_args])
    start = time.perf_counter()
    log = open(tree.parent / "baseline.log", "w") if tracer_args else subprocess.DEVNULL   # why a baseline failed
    process = subprocess.Popen(command, cwd=tree, env=environment(tree), stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True, preexec_fn=_ctrl_c_as_usual)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    finally:                    # also when the harness itself is stopped: no test run left behind
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if tracer_args:
            log.close()
    return code, time.perf_counter() - start


def baseline(tree, path, tests):
    """The unmutated tests' time and the lines of `path` they execute; an error if they fail."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        code, seconds = run_tests(tree, tests, 1800, [str(tree / path), out.name])
        if code != 0:           # once more: a test run beside other heavy work can fail on a timeout of its own
            code, seconds = run_tests(tree, tests, 1800, [str(tree / path), out.name])
        if code != 0:
            sys.exit(f"the tests of {path} fail on the unmutated tree (exit {code}): {' '.join(tests)}; "
                     f"their output: {tree.parent / 'baseline.log'}")
        return seconds, set(json.load(open(out.name)))


def summarize(results):
    by_file = {}
    for r in results:
        row = by_file.setdefault(r["file"], {"total": 0, "killed": 0, "timeout": 0, "survived": 0,
                                             "not covered": 0})
        row["total"] += 1
        row[r["status"]] += 1
    for row in by_file.values():
        row["score"] = round((row["killed"] + row["timeout"]) / row["total"], 3)
    return by_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", metavar="PATH", help="this target only (repeatable)")
    parser.add_argument("--limit", type=int, help="at most N mutants in all")
    parser.add_argument("--sample", type=int, metavar="K", help="a deterministic sample of K mutants per file")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("--full", action="append", default=[], metavar="PATH",
                        help="a target whose mutants are all run even with --sample (repeatable)")
    parser.add_argument("--ids", nargs="+", metavar="ID", help="these mutants only (ids as in the results)")
    parser.add_argument("--ids-from", metavar="JSON", help="the survivors listed in an earlier results file")
    parser.add_argument("--copy-tests", nargs="+", default=[], metavar="FILE",
                        help="test files copied from the working tree into the copy first (new, uncommitted tests)")
    parser.add_argument("--out", default="mutation.json", help="results file, written after every mutant")
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help=f"the private copy (default {DEFAULT_TREE})")
    parser.add_argument("--refresh", action="store_true", help="re-extract the copy from HEAD (or --commit) first")
    parser.add_argument("--commit", default="HEAD", help="the commit --refresh extracts (default HEAD)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the results already in --out for the same commit; run the other mutants")
    parser.add_argument("--no-coverage", action="store_true", help="run mutants on unexecuted lines too")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # kill PID: restore the file, stop the tests
    tree = args.tree
    plugin_dir(tree).mkdir(parents=True, exist_ok=True)
    (plugin_dir(tree) / "mutation_plugin.py").write_text(PLUGIN)
    if args.refresh or not (tree / ".mutation-commit").is_file():
        refresh(tree, args.commit)
    for name in args.copy_tests:
        shutil.copy(REPO / name, tree / name)
    for cache in tree.rglob("__pycache__"):
        shutil.rmtree(cache)
    commit = (tree / ".mutation-commit").read_text()

    wanted = set()
    for source in filter(None, [args.ids_from]):
        wanted |= {r["id"] for r in json.load(open(source))["mutants"] if r["status"] in ("survived", "not covered")}
    wanted |= set(args.ids or ())
    targets = [t for t in TARGETS if not args.only or t in args.only]
    plan = {}
    for path in targets:
        (tree / path).write_text(committed(tree, path))
        mutants = mutants_of(path, committed(tree, path))
        if wanted:
            mutants = [m for m in mutants if m["id"] in wanted]
        elif args.sample and path not in args.full and len(mutants) > args.sample:
            chosen = sorted(random.Random(f"{args.seed}:{path}").sample(range(len(mutants)), args.sample))
            mutants = [mutants[i] for i in chosen]
        if mutants:
            plan[path] = mutants
    if args.limit is not None:
        left = args.limit
        for path in list(plan):
            plan[path], left = plan[path][:left], max(left - len(plan[path]), 0)
    if args.list:
        for mutants in plan.values():
            for m in mutants:
                print(f"{m['id']:32} line {m['line']:4}  {m['operator']:24} {m['before']}  ->  {m['after']}")
        print(f"{sum(map(len, plan.values()))} mutants", file=sys.stderr)
        return

    check_imports_from(tree)
    results, done = [], {}
    if args.resume and Path(args.out).exists():
        earlier = json.loads(Path(args.out).read_text())
        if earlier["commit"] == commit:
            done = {r["id"]: r for r in earlier["mutants"]}
    report = {"commit": commit, "command": " ".join(sys.argv), "mutants": results}
    for path, mutants in plan.items():
        results += [done[m["id"]] for m in mutants if m["id"] in done]
        mutants = [m for m in mutants if m["id"] not in done]
        if not mutants:
            continue
        tests = [t for t in TARGETS[path] if (tree / t).exists()]
        seconds, executed = baseline(tree, path, tests)
        timeout = max(60.0, 4 * seconds)    # the traced baseline is slower than a plain run
        print(f"\n{path}: {len(mutants)} mutants; tests {' '.join(tests)} ({seconds:.0f}s traced)", flush=True)
        original = committed(tree, path)
        for m in mutants:
            covered = args.no_coverage or any(n in executed for n in range(m["line"], m["end_line"] + 1))
            if not covered:
                status, took = "not covered", 0.0
            else:
                try:
                    (tree / path).write_text(m["source"])
                    code, took = run_tests(tree, tests, timeout)
                finally:
                    (tree / path).write_text(original)
                status = "timeout" if code is None else "survived" if code == 0 else "killed"
            results.append({k: v for k, v in m.items() if k != "source"} | {"status": status,
                                                                           "seconds": round(took, 1)})
            print(f"  {status:11} {m['id']:32} line {m['line']:4} {m['operator']:22} {m['before'][:60]}", flush=True)
            report["summary"] = summarize(results)
            Path(args.out).write_text(json.dumps(report, indent=1))
    summary = summarize(results)
    print(f"\n{'file':32} {'killed':>7} {'timeout':>7} {'survived':>8} {'uncovered':>9} {'total':>6} score")
    for path, row in summary.items():
        print(f"{path:32} {row['killed']:7} {row['timeout']:7} {row['survived']:8} {row['not covered']:9} "
              f"{row['total']:6} {row['score']:.1%}")
    caught = sum(r["status"] in ("killed", "timeout") for r in results)
    print(f"caught {caught} of {len(results)} mutants ({caught / max(len(results), 1):.1%}); results in {args.out}")


if __name__ == "__main__":
    main()
