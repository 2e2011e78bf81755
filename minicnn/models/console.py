"""What fit shows and hears on the console: a progress bar in a terminal or notebook, the epoch's
line, and Ctrl-C, which finishes the current batch instead of leaving a half-made update."""

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager


@contextmanager
def ctrl_c_finishes_the_batch(announce=True):
    """The first Ctrl-C sets a flag the loop reads after each batch; a second one interrupts at once.
    announce: say so on stderr (on several MPI ranks only rank 0 does: mpiexec sends Ctrl-C to each)."""
    state = {"hit": False}
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) in (
            signal.SIG_IGN, None):      # a thread can't set handlers; Ctrl-C ignored by whoever started us stays so
        yield state
        return

    def handler(signum, frame):
        if state["hit"]:
            raise KeyboardInterrupt
        state["hit"] = True
        if announce:
            print("\nCtrl-C: stopping after this batch (press again to stop now)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


def print_interrupted(epoch, verbose):
    if verbose:
        print(f"Training interrupted during epoch {epoch + 1}; keeping the weights "
              f"of its last finished batch.", flush=True)


def print_epoch(epoch, epochs, logs, seconds, images, verbose):
    """The epoch's line: its time, images per second and metrics (verbose 1 and 2; 0 prints nothing)."""
    if not verbose:
        return
    metrics = " - ".join(f"{k} {v:.4f}" for k, v in logs.items())
    print(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s ({images / seconds:.0f} img/s) - {metrics}", flush=True)


class Progress:
    """One line per epoch that updates in place: batches done, ETA, images/s, running loss/accuracy.

    In a terminal or notebook it is a tqdm bar; where output goes to a file
    (no terminal to redraw), only the epoch's final line is written.
    """

    def __init__(self, epoch, epochs, total_images, batch_size, verbose):
        self.bar = None
        self.images, self.start = 0, time.perf_counter()
        if verbose == 1 and interactive():
            tqdm = _bar_class()
            self.bar = tqdm(total=math.ceil(total_images / batch_size), unit="batch", leave=False,
                            desc=f"Epoch {epoch + 1}/{epochs}", dynamic_ncols=True, file=sys.stdout)

    def update(self, n, running):
        """After a batch of n images: `running` holds the epoch's loss and metrics so far."""
        if self.bar is None:
            return
        self.images += n
        postfix = {"img/s": f"{self.images / (time.perf_counter() - self.start):.0f}",
                   **{name: f"{value:.4f}" for name, value in running.items()}}
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _bar_class():
    """tqdm's notebook widget where ipywidgets is installed, its text bar elsewhere (tqdm.auto would warn
    "IProgress not found" in a notebook without ipywidgets, and show no bar)."""
    if in_a_notebook():
        import importlib.util
        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.notebook import tqdm
            return tqdm
    from tqdm.std import tqdm
    return tqdm


def interactive():
    return in_a_notebook() or (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())


def in_a_notebook():
    """True inside a Jupyter kernel (not merely when ipykernel was imported, as nbclient does)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"
