"""Issue 17's sweep: small cases tried as a new user (and a hostile one) would, each run on minicnn and
on its reference beside it: PyTorch 2.13 CPU for tensors, ops, autograd and optimizers, Keras 3 on
PyTorch for layers, models, callbacks and losses, or a written expectation where neither has the
feature (files, confusion_matrix). Writes docs/sweep.md.

    KERAS_BACKEND=torch nice -n 10 python benchmarks/sweep.py           # all cases, writes docs/sweep.md
    KERAS_BACKEND=torch python benchmarks/sweep.py --only P01,G03 -v    # some cases, printed, nothing written

Each case is two code strings, minicnn's and the reference's, run in a fresh namespace (see
`namespace`); the value of the last line is the answer. A case runs under a timer (TIMEOUT seconds);
file cases (FIFOs, devices) run in a subprocess that is killed after SUB_TIMEOUT seconds. Verdicts:

    same          equal within float32 tolerance (dtype and shape too), or both refuse with a clear error
    refused       minicnn raises a clear error (a `raise` of minicnn's own, or Python's own error at the
                  user's line: an unknown keyword, a missing operator) where the reference answers
    raw error     minicnn fails inside itself: an error from NumPy, zipfile, json, a KeyError, a
                  TypeError from a line of minicnn that is not a `raise` (whatever the reference does)
    silent wrong  minicnn answers and the answer differs from the reference's (or the reference refuses)
    hang          no answer within the timeout
"""

import argparse
import ast
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np  # noqa: E402

import minicnn as mc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MINICNN_DIR = os.path.dirname(os.path.abspath(mc.__file__))
OUTPUT = os.path.join(HERE, "..", "docs", "sweep.md")
TIMEOUT, SUB_TIMEOUT = 20, 12
COMMAND = "KERAS_BACKEND=torch nice -n 10 python benchmarks/sweep.py"


class Case:
    def __init__(self, id, mine, ref, kind="torch", sub=False, rtol=1e-5, atol=1e-6):
        self.id, self.mine, self.ref, self.kind, self.sub = id, mine, ref, kind, sub
        self.rtol, self.atol = rtol, atol


def C(id, mine, ref, kind="torch", **options):
    return Case(id, textwrap.dedent(mine).strip(), textwrap.dedent(ref).strip(), kind, **options)


def K(id, mine, ref, **options):
    """A case whose reference is Keras 3 (on PyTorch)."""
    return C(id, mine, ref, "keras", **options)


def E(id, mine, ref, **options):
    """A case whose reference is a written expectation (no library has the feature)."""
    return C(id, mine, ref, "expected", **options)


# ------------------------------------------------------------------------------------------------
# the cases, by family
# ------------------------------------------------------------------------------------------------

DTYPES = [
    C("D01", "mc.tensor([True, False]).dtype", "torch.tensor([True, False]).dtype"),
    C("D02", "mc.tensor([1, 2]) / mc.tensor([2, 4])", "torch.tensor([1, 2]) / torch.tensor([2, 4])"),
    C("D03", "mc.tensor([True, False]) * 2", "torch.tensor([True, False]) * 2"),
    C("D04", "mc.tensor([True, False]) + mc.tensor([True, True])",
      "torch.tensor([True, False]) + torch.tensor([True, True])"),
    C("D05", "mc.tensor(np.array([250], np.uint8)) + 10", "torch.tensor(np.array([250], np.uint8)) + 10"),
    C("D06", "mc.tensor(np.array([250], np.uint8)) + 300", "torch.tensor(np.array([250], np.uint8)) + 300"),
    C("D07", "mc.tensor([1, 4]) ** 0.5", "torch.tensor([1, 4]) ** 0.5"),
    C("D08", "mc.tensor([1, 2]) ** -1", "torch.tensor([1, 2]) ** -1"),
    C("D09", "mc.tensor([1.], dtype='float16') + mc.tensor([1.])",
      "torch.tensor([1.], dtype=torch.float16) + torch.tensor([1.])"),
    C("D10", "mc.tensor([1.], dtype='float64') + 0.5", "torch.tensor([1.], dtype=torch.float64) + 0.5"),
    C("D11", "mc.tensor([1.]) + np.float64(0.5)", "torch.tensor([1.]) + np.float64(0.5)"),
    C("D12", "mc.tensor([1, 2]) + mc.tensor([0.5, 0.5], dtype='float16')",
      "torch.tensor([1, 2]) + torch.tensor([0.5, 0.5], dtype=torch.float16)"),
    C("D13", "mc.tensor(np.array([1], np.int32)) + mc.tensor([1])",
      "torch.tensor(np.array([1], np.int32)) + torch.tensor([1])"),
    C("D14", "F.relu(mc.tensor([1, -2]))", "torch.relu(torch.tensor([1, -2]))"),
    C("D15", "mc.tensor([0, 1]).exp()", "torch.tensor([0, 1]).exp()"),
    C("D16", "mc.tensor(np.array([200, 100], np.uint8)).sum()", "torch.tensor(np.array([200, 100], np.uint8)).sum()"),
    C("D17", "mc.tensor([1, 2]).mean()", "torch.tensor([1, 2]).mean()"),
    C("D18", "mc.tensor(np.full(4096, 0.1), dtype='float16').sum()",
      "torch.tensor(np.full(4096, 0.1), dtype=torch.float16).sum()", rtol=2e-3),
    C("D19", "mc.tensor([3e38]) * 10", "torch.tensor([3e38]) * 10"),
    C("D20", "mc.tensor(2 ** 63)", "torch.tensor(2 ** 63)"),
    C("D21", "mc.tensor([1, 2], requires_grad=True)", "torch.tensor([1, 2], requires_grad=True)"),
    C("D22", "-mc.tensor(np.array([-128], np.int8))", "-torch.tensor(np.array([-128], np.int8))"),
    C("D23", "mc.tensor([1.7, -1.7]).astype('int64')", "torch.tensor([1.7, -1.7]).to(torch.int64)"),
    C("D24", "mc.tensor(np.array([1, 2], np.int32)) * 2.5", "torch.tensor(np.array([1, 2], np.int32)) * 2.5"),
    C("D25", "mc.tensor([1, 2]) * mc.tensor([0.5], dtype='float64')",
      "torch.tensor([1, 2]) * torch.tensor([0.5], dtype=torch.float64)"),
    C("D26", "mc.tensor([1., 2.]) * 1j", "torch.tensor([1., 2.]) * 1j"),
    C("D27", "mc.tensor([1, 2]) // 2", "torch.tensor([1, 2]) // 2"),
]

SPECIAL_VALUES = [
    C("S01", "F.relu(mc.tensor([np.nan, -1., 0., np.inf]))", "torch.relu(tt([np.nan, -1., 0., np.inf]))"),
    C("S02", "F.sigmoid(mc.tensor([-np.inf, np.inf, np.nan, -100.]))",
      "torch.sigmoid(tt([-np.inf, np.inf, np.nan, -100.]))"),
    C("S03", "F.softmax(mc.tensor([[np.inf, 0.]]))", "torch.softmax(tt([[np.inf, 0.]]), -1)"),
    C("S04", "F.softmax(mc.tensor([[-np.inf, -np.inf]]))", "torch.softmax(tt([[-np.inf, -np.inf]]), -1)"),
    C("S05", "F.log_softmax(mc.tensor([[3e38, -3e38]]))", "torch.log_softmax(tt([[3e38, -3e38]]), -1)"),
    C("S06", "F.leaky_relu(mc.tensor([-np.inf, np.inf, np.nan, -2.]))",
      "tF.leaky_relu(tt([-np.inf, np.inf, np.nan, -2.]))"),
    C("S07", "mc.tensor([0., -1.]).log()", "tt([0., -1.]).log()"),
    C("S08", "mc.tensor([1., np.nan, 3.]).max()", "tt([1., np.nan, 3.]).max()"),
    C("S09", "F.max_pool2d(mc.tensor([[[[1., np.nan], [3., 2.]]]]), 2)",
      "tF.max_pool2d(tt([[[[1., np.nan], [3., 2.]]]]), 2)"),
    C("S10", "mc.tensor([0., 1., -1.]) / 0.", "tt([0., 1., -1.]) / 0."),
    C("S11", "F.binary_cross_entropy(mc.tensor([1e4, -1e4, 0.]), mc.tensor([1., 1., 0.]), from_logits=True)",
      "tF.binary_cross_entropy_with_logits(tt([1e4, -1e4, 0.]), tt([1., 1., 0.]))"),
    C("S12", "F.sparse_categorical_cross_entropy(mc.tensor([[1000., -1000.]]), [1], from_logits=True)",
      "tF.cross_entropy(tt([[1000., -1000.]]), torch.tensor([1]))"),
    C("S13", "F.sparse_categorical_cross_entropy(mc.tensor([[np.nan, 0.]]), [1], from_logits=True)",
      "tF.cross_entropy(tt([[np.nan, 0.]]), torch.tensor([1]))"),
    C("S14", "mc.tensor([np.nan, -1., 2.]).clip(0, 1)", "tt([np.nan, -1., 2.]).clip(0, 1)"),
    C("S15", "mc.zeros(0).mean()", "torch.zeros(0).mean()"),
    C("S16", "mc.zeros(0).max()", "torch.zeros(0).max()"),
    C("S17", "mc.tensor([3e38, 3e38]).sum()", "tt([3e38, 3e38]).sum()"),
    K("S18", "F.batch_norm(mc.tensor([[5., -3.]]), mc.ones(2), mc.zeros(2))[0]",
      "K.BatchNormalization(axis=1, epsilon=1e-3)(tt([[5., -3.]]), training=True)"),
    C("S19", "F.tanh(mc.tensor([np.inf, -np.inf, 20.]))", "torch.tanh(tt([np.inf, -np.inf, 20.]))"),
    C("S20", "F.log_sigmoid(mc.tensor([-1e4, 1e4, np.inf]))", "tF.logsigmoid(tt([-1e4, 1e4, np.inf]))"),
]

LAYOUTS = [
    C("N01", "mc.tensor(np.arange(6.).reshape(2, 3).T)", "tt(np.arange(6.).reshape(2, 3).T)"),
    C("N02", "mc.tensor(np.arange(4.)[::-1])", "tt(np.arange(4.)[::-1].copy())"),
    C("N03", """
        x = mc.tensor(np.broadcast_to(np.arange(3.), (2, 3)), requires_grad=True)
        (x * x).sum().backward()
        x.grad""", """
        x = tt(np.broadcast_to(np.arange(3.), (2, 3)), grad=True)
        (x * x).sum().backward()
        x.grad"""),
    C("N04", """
        x = mc.tensor(rnd(2, 3, 5, 6), requires_grad=True)
        y = F.conv2d(x.transpose(0, 1, 3, 2), mc.tensor(rnd(4, 3, 3, 3, seed=1)), padding=1)
        (y * y).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(2, 3, 5, 6), grad=True)
        y = tF.conv2d(x.transpose(2, 3), tt(flipk(rnd(4, 3, 3, 3, seed=1))), padding=1)
        (y * y).sum().backward()
        (y, x.grad)""", rtol=1e-4, atol=1e-4),
    C("N05", """
        x = mc.tensor(rnd(1, 2, 4, 4), requires_grad=True)
        y = F.max_pool2d(x[:, :, ::-1], 2)
        (y * y).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(1, 2, 4, 4), grad=True)
        y = tF.max_pool2d(torch.flip(x, [2]), 2)
        (y * y).sum().backward()
        (y, x.grad)"""),
    C("N06", """
        x = mc.tensor(rnd(2, 3, 4, 5), requires_grad=True)
        y = F.relu(x.transpose(0, 1, 3, 2))
        (y * mc.tensor(rnd(2, 3, 5, 4, seed=1))).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(2, 3, 4, 5), grad=True)
        y = torch.relu(x.transpose(2, 3))
        (y * tt(rnd(2, 3, 5, 4, seed=1))).sum().backward()
        (y, x.grad)"""),
    C("N07", """
        x = mc.tensor(rnd(4, 3, 2, 5), requires_grad=True)
        g, b = mc.tensor(rnd(3, seed=1), requires_grad=True), mc.tensor(rnd(3, seed=2), requires_grad=True)
        y = F.batch_norm(x.transpose(0, 1, 3, 2), g, b)[0]
        (y * mc.tensor(rnd(4, 3, 5, 2, seed=3))).sum().backward()
        (y, x.grad, g.grad, b.grad)""", """
        x = tt(rnd(4, 3, 2, 5), grad=True)
        g, b = tt(rnd(3, seed=1), grad=True), tt(rnd(3, seed=2), grad=True)
        y = tF.batch_norm(x.transpose(2, 3), None, None, g, b, training=True, eps=1e-3)
        (y * tt(rnd(4, 3, 5, 2, seed=3))).sum().backward()
        (y, x.grad, g.grad, b.grad)""", rtol=1e-4, atol=1e-5),
    E("N08", """
        x = rnd(4, 1, 6, 6).astype(np.float64)
        small_cnn().predict(np.asfortranarray(x))""", """
        small_cnn().predict(rnd(4, 1, 6, 6))"""),
    C("N09", "mc.tensor(rnd(3, 4)).T.sum(axis=0)", "tt(rnd(3, 4)).T.sum(dim=0)"),
    C("N10", """
        x = mc.tensor(rnd(1, 3, 4, 4), requires_grad=True)
        F.avg_pool2d(x[:, 1:], 2).sum().backward()
        x.grad""", """
        x = tt(rnd(1, 3, 4, 4), grad=True)
        tF.avg_pool2d(x[:, 1:], 2).sum().backward()
        x.grad"""),
    E("N11", """
        x, y = toy_images()
        m = small_cnn(); m.compile(mc.optimizers.SGD(lr=0.1), sparse_ce())
        m.fit(x[:, :, ::-1, ::-1], y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        m.get_weights()[0]""", """
        x, y = toy_images()
        m = small_cnn(); m.compile(mc.optimizers.SGD(lr=0.1), sparse_ce())
        m.fit(np.ascontiguousarray(x[:, :, ::-1, ::-1]), y, epochs=1, batch_size=4, shuffle=False, verbose=0)
        m.get_weights()[0]"""),
    C("N12", "F.linear(mc.tensor(rnd(3, 2)).T, mc.tensor(rnd(3, 4, seed=1)))",
      "tt(rnd(3, 2)).T @ tt(rnd(3, 4, seed=1))", rtol=1e-5, atol=1e-5),
]

PROTOCOLS = [
    C("P01", "bool(mc.tensor(0.))", "bool(torch.tensor(0.))"),
    C("P02", "bool(mc.tensor([0.]))", "bool(torch.tensor([0.]))"),
    C("P03", "bool(mc.tensor([1., 2.]))", "bool(torch.tensor([1., 2.]))"),
    C("P04", "len(mc.tensor(3.))", "len(torch.tensor(3.))"),
    C("P05", "len(mc.zeros(4, 2))", "len(torch.zeros(4, 2))"),
    C("P06", "[v.item() for v in mc.tensor([1, 2, 3])]", "[v.item() for v in torch.tensor([1, 2, 3])]"),
    C("P07", "list(mc.tensor(5.))", "list(torch.tensor(5.))"),
    C("P08", "2 in mc.tensor([1, 2, 3])", "2 in torch.tensor([1, 2, 3])"),
    C("P09", "5 in mc.tensor([1, 2, 3])", "5 in torch.tensor([1, 2, 3])"),
    C("P10", "'a' in mc.tensor([1, 2])", "'a' in torch.tensor([1, 2])"),
    C("P11", "int(mc.tensor(3.7))", "int(torch.tensor(3.7))"),
    C("P12", "float(mc.tensor([2.5]))", "float(torch.tensor([2.5]))"),
    C("P13", "int(mc.tensor([1, 2]))", "int(torch.tensor([1, 2]))"),
    C("P14", "[10, 20, 30][mc.tensor(1)]", "[10, 20, 30][torch.tensor(1)]"),
    C("P15", "[10, 20][mc.tensor(1.)]", "[10, 20][torch.tensor(1.)]"),
    C("P16", "list(range(mc.tensor(3)))", "list(range(torch.tensor(3)))"),
    C("P17", "f'{mc.tensor(2.5):.2f}'", "f'{torch.tensor(2.5):.2f}'"),
    C("P18", "np.asarray(mc.tensor([1., 2.]))", "np.asarray(torch.tensor([1., 2.]))"),
    C("P19", "mc.tensor([mc.tensor(1.), mc.tensor(2.)])", "torch.tensor([torch.tensor(1.), torch.tensor(2.)])"),
    C("P20", "abs(mc.tensor([-1., 0., 2.]))", "abs(torch.tensor([-1., 0., 2.]))"),
    C("P21", "mc.tensor([1., 2.]) == None", "torch.tensor([1., 2.]) == None"),
    C("P22", "mc.tensor([1, 2, 3, 4])[:mc.tensor(2)]", "torch.tensor([1, 2, 3, 4])[:torch.tensor(2)]"),
    C("P23", """
        y = copy.deepcopy(mc.tensor([1., 2.], requires_grad=True))
        (y, y.requires_grad)""", """
        y = copy.deepcopy(torch.tensor([1., 2.], requires_grad=True))
        (y, y.requires_grad)"""),
    C("P24", "[v.item() for v in sorted(mc.tensor([3., 1., 2.]))]",
      "[v.item() for v in sorted(torch.tensor([3., 1., 2.]))]"),
    C("P25", "sum(mc.tensor([1., 2., 3.])).item()", "sum(torch.tensor([1., 2., 3.])).item()"),
    C("P26", "np.float32(2) * mc.tensor([1., 2.])", "np.float32(2) * torch.tensor([1., 2.])"),
    C("P27", "mc.tensor([[1., 2.]]).tolist()", "torch.tensor([[1., 2.]]).tolist()"),
]

REDUCTIONS = [
    C("R01", """
        x = mc.tensor(rnd(2, 3, 4), requires_grad=True)
        y = x.sum(axis=(0, 2))
        (y * mc.tensor([1., 2., 3.])).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(2, 3, 4), grad=True)
        y = x.sum(dim=(0, 2))
        (y * tt([1., 2., 3.])).sum().backward()
        (y, x.grad)"""),
    C("R02", """
        x = mc.tensor(rnd(2, 3), requires_grad=True)
        y = x.mean(axis=-1, keepdims=True)
        (y * y).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(2, 3), grad=True)
        y = x.mean(dim=-1, keepdim=True)
        (y * y).sum().backward()
        (y, x.grad)"""),
    C("R03", "mc.tensor([[1., 2.], [3., 4.]]).sum(axis=())", "tt([[1., 2.], [3., 4.]]).sum(dim=())"),
    C("R04", """
        x = mc.tensor([[1., 3., 3.], [2., 2., 0.]], requires_grad=True)
        x.max(axis=1).sum().backward()
        x.grad""", """
        x = tt([[1., 3., 3.], [2., 2., 0.]], grad=True)
        x.amax(dim=1).sum().backward()
        x.grad"""),
    C("R05", """
        x = mc.tensor([1., 3., 3.], requires_grad=True)
        x.max().backward()
        x.grad""", """
        x = tt([1., 3., 3.], grad=True)
        x.max().backward()
        x.grad"""),
    C("R06", "mc.zeros(2, 3).sum(axis=2)", "torch.zeros(2, 3).sum(dim=2)"),
    C("R07", "mc.zeros(2, 3).sum(axis=True)", "torch.zeros(2, 3).sum(dim=True)"),
    C("R08", "mc.zeros(2, 3).mean(axis=(0, 0))", "torch.zeros(2, 3).mean(dim=(0, 0))"),
    C("R09", "mc.tensor(rnd(2, 3)).sum(axis=np.int64(1))", "tt(rnd(2, 3)).sum(dim=np.int64(1))"),
    C("R10", "mc.tensor([True, True, False]).sum()", "torch.tensor([True, True, False]).sum()"),
    C("R11", "mc.tensor([3, 1, 2]).max()", "torch.tensor([3, 1, 2]).max()"),
    C("R12", "mc.tensor([1., 2.], dtype='float16').mean()", "torch.tensor([1., 2.], dtype=torch.float16).mean()"),
    C("R13", "mc.tensor(rnd(2, 3)).max(axis=None, keepdims=True)", "tt(rnd(2, 3)).amax(dim=(0, 1), keepdim=True)"),
    C("R14", "mc.tensor(rnd(2, 3)).sum(axis=1.0)", "tt(rnd(2, 3)).sum(dim=1.0)"),
    C("R15", "mc.tensor(rnd(2, 3)).max(axis=[0, 1])", "tt(rnd(2, 3)).amax(dim=[0, 1])"),
]

INDEXING = [
    C("I01", """
        x = mc.tensor([1., 2., 3.], requires_grad=True)
        x[[0, 0, 2]].sum().backward()
        x.grad""", """
        x = tt([1., 2., 3.], grad=True)
        x[[0, 0, 2]].sum().backward()
        x.grad"""),
    C("I02", """
        x = mc.tensor([-1., 2., 3.], requires_grad=True)
        y = x[x > 0]
        (y * y).sum().backward()
        (y, x.grad)""", """
        x = tt([-1., 2., 3.], grad=True)
        y = x[x > 0]
        (y * y).sum().backward()
        (y, x.grad)"""),
    C("I03", "mc.tensor([1., 2., 3.])[[True, False, True]]", "tt([1., 2., 3.])[[True, False, True]]"),
    C("I04", """
        x = mc.tensor(rnd(2, 3))
        (x[-1], x[:, -1])""", """
        x = tt(rnd(2, 3))
        (x[-1], x[:, -1])"""),
    C("I05", """
        x = mc.tensor(rnd(2, 3), requires_grad=True)
        x[[-1, -1], [0, 0]].sum().backward()
        x.grad""", """
        x = tt(rnd(2, 3), grad=True)
        x[[-1, -1], [0, 0]].sum().backward()
        x.grad"""),
    C("I06", "mc.zeros(2, 3)[None, ..., 0].shape", "tuple(torch.zeros(2, 3)[None, ..., 0].shape)"),
    C("I07", "mc.zeros(3)[5]", "torch.zeros(3)[5]"),
    C("I08", "mc.zeros(3)[1.5]", "torch.zeros(3)[1.5]"),
    C("I09", "mc.zeros(3)[mc.tensor([0., 1.])]", "torch.zeros(3)[torch.tensor([0., 1.])]"),
    C("I10", "mc.zeros(3)[[]]", "torch.zeros(3)[[]]"),
    C("I11", """
        x = mc.zeros(3)
        x[0] = 5.
        x""", """
        x = torch.zeros(3)
        x[0] = 5.
        x"""),
    C("I12", """
        x = mc.tensor(rnd(4, 2), requires_grad=True)
        y = x[mc.tensor([[0, 3], [3, 3]])]
        y.sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(4, 2), grad=True)
        y = x[torch.tensor([[0, 3], [3, 3]])]
        y.sum().backward()
        (y, x.grad)"""),
    C("I13", "mc.zeros(3)[mc.tensor([True, False])]", "torch.zeros(3)[torch.tensor([True, False])]"),
    C("I14", """
        x = mc.tensor([1., 2., 3.], requires_grad=True)
        x[mc.tensor(1)].backward()
        x.grad""", """
        x = tt([1., 2., 3.], grad=True)
        x[torch.tensor(1)].backward()
        x.grad"""),
    C("I15", "mc.tensor([1., 2., 3.])[np.int64(1)]", "tt([1., 2., 3.])[np.int64(1)]"),
    C("I16", """
        x = mc.tensor(rnd(3, 3), requires_grad=True)
        x[[0, 1]][:, [1, 1]].sum().backward()
        x.grad""", """
        x = tt(rnd(3, 3), grad=True)
        x[[0, 1]][:, [1, 1]].sum().backward()
        x.grad"""),
    C("I17", "mc.tensor(rnd(2, 3))[mc.tensor([True, False])]", "tt(rnd(2, 3))[torch.tensor([True, False])]"),
    C("I18", "mc.tensor([1., 2., 3.])[-4]", "tt([1., 2., 3.])[-4]"),
]

GRADIENTS = [
    C("G01", """
        x = mc.tensor([0., 2.], requires_grad=True)
        (x ** 2).sum().backward()
        x.grad""", """
        x = tt([0., 2.], grad=True)
        (x ** 2).sum().backward()
        x.grad"""),
    C("G02", """
        x = mc.tensor([0., 2.], requires_grad=True)
        (x ** 0.5).sum().backward()
        x.grad""", """
        x = tt([0., 2.], grad=True)
        (x ** 0.5).sum().backward()
        x.grad"""),
    C("G03", """
        x = mc.tensor([0., 2.], requires_grad=True)
        (x ** 0).sum().backward()
        x.grad""", """
        x = tt([0., 2.], grad=True)
        (x ** 0).sum().backward()
        x.grad"""),
    C("G04", """
        x, p = mc.tensor([0., 2.], requires_grad=True), mc.tensor(2., requires_grad=True)
        (x ** p).sum().backward()
        (x.grad, p.grad)""", """
        x, p = tt([0., 2.], grad=True), tt(2., grad=True)
        (x ** p).sum().backward()
        (x.grad, p.grad)"""),
    C("G05", """
        x = mc.tensor([0., 2.], requires_grad=True)
        (x ** -1).sum().backward()
        x.grad""", """
        x = tt([0., 2.], grad=True)
        (x ** -1).sum().backward()
        x.grad"""),
    C("G06", """
        x = mc.tensor([-1., 0., 1.], requires_grad=True)
        F.relu(x).sum().backward()
        x.grad""", """
        x = tt([-1., 0., 1.], grad=True)
        torch.relu(x).sum().backward()
        x.grad"""),
    C("G07", """
        x = mc.tensor([-1., 0., 1.], requires_grad=True)
        F.leaky_relu(x).sum().backward()
        x.grad""", """
        x = tt([-1., 0., 1.], grad=True)
        tF.leaky_relu(x).sum().backward()
        x.grad"""),
    C("G08", """
        x = mc.ones(1, 1, 2, 2, requires_grad=True)
        F.max_pool2d(x, 2).sum().backward()
        x.grad""", """
        x = torch.ones(1, 1, 2, 2, requires_grad=True)
        tF.max_pool2d(x, 2).sum().backward()
        x.grad"""),
    C("G09", """
        x = mc.ones(1, 1, 5, 5, requires_grad=True)
        F.max_pool2d(x, 3, stride=2).sum().backward()
        x.grad""", """
        x = torch.ones(1, 1, 5, 5, requires_grad=True)
        tF.max_pool2d(x, 3, stride=2).sum().backward()
        x.grad"""),
    C("G10", """
        x = mc.tensor([0., 0.5, 1., 2.], requires_grad=True)
        x.clip(0, 1).sum().backward()
        x.grad""", """
        x = tt([0., 0.5, 1., 2.], grad=True)
        x.clip(0, 1).sum().backward()
        x.grad"""),
    C("G11", """
        x = mc.tensor([0., 2.], requires_grad=True)
        x.log().sum().backward()
        x.grad""", """
        x = tt([0., 2.], grad=True)
        x.log().sum().backward()
        x.grad"""),
    C("G12", """
        x = mc.tensor([-np.inf, np.inf], requires_grad=True)
        F.sigmoid(x).sum().backward()
        x.grad""", """
        x = tt([-np.inf, np.inf], grad=True)
        torch.sigmoid(x).sum().backward()
        x.grad"""),
    C("G13", """
        x = mc.tensor([-1., 0., 2.], requires_grad=True)
        abs(x).sum().backward()
        x.grad""", """
        x = tt([-1., 0., 2.], grad=True)
        abs(x).sum().backward()
        x.grad"""),
    C("G14", """
        x = mc.tensor([1.], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()""", """
        x = tt([1.], grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()"""),
    C("G15", "(mc.tensor([1., 2.], requires_grad=True) * 2).backward()", "(tt([1., 2.], grad=True) * 2).backward()"),
    C("G16", "(mc.tensor([1., 2.], requires_grad=True) * 2).backward(mc.ones(3))",
      "(tt([1., 2.], grad=True) * 2).backward(torch.ones(3))"),
    C("G17", """
        x = mc.tensor([1., 2.], requires_grad=True)
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        x.grad""", """
        x = tt([1., 2.], grad=True)
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        x.grad"""),
    C("G18", """
        x = mc.tensor([1.], requires_grad=True)
        with mc.no_grad():
            y = x * 2
        y.requires_grad""", """
        x = tt([1.], grad=True)
        with torch.no_grad():
            y = x * 2
        y.requires_grad"""),
    C("G19", """
        x = mc.tensor([1., 2.], requires_grad=True)
        x.astype('float64').sum().backward()
        x.grad""", """
        x = tt([1., 2.], grad=True)
        x.double().sum().backward()
        x.grad"""),
    C("G20", """
        x, d = mc.tensor([1., 2.], requires_grad=True), mc.tensor([0., 4.], requires_grad=True)
        (x / d).sum().backward()
        (x.grad, d.grad)""", """
        x, d = tt([1., 2.], grad=True), tt([0., 4.], grad=True)
        (x / d).sum().backward()
        (x.grad, d.grad)"""),
    C("G21", "(mc.tensor([1.], requires_grad=True) * 2).requires_grad_()",
      "(tt([1.], grad=True) * 2).requires_grad_()"),
    C("G22", """
        x, w = mc.tensor(rnd(2, 3, 7, 7), requires_grad=True), mc.tensor(rnd(4, 3, 3, 3, seed=1), requires_grad=True)
        b = mc.tensor(rnd(4, seed=2), requires_grad=True)
        y = F.conv2d(x, w, b, stride=2, padding=1)
        (y * y).sum().backward()
        (y, x.grad, w.grad, b.grad)""", """
        x, w = tt(rnd(2, 3, 7, 7), grad=True), tt(flipk(rnd(4, 3, 3, 3, seed=1)), grad=True)
        b = tt(rnd(4, seed=2), grad=True)
        y = tF.conv2d(x, w, b, stride=2, padding=1)
        (y * y).sum().backward()
        (y, x.grad, torch.flip(w.grad, [2, 3]), b.grad)""", rtol=1e-4, atol=1e-4),
    C("G23", """
        x = mc.tensor(rnd(1, 2, 5, 5), requires_grad=True)
        y = F.avg_pool2d(x, 3, stride=2, padding=1)
        (y * y).sum().backward()
        (y, x.grad)""", """
        x = tt(rnd(1, 2, 5, 5), grad=True)
        y = tF.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        (y * y).sum().backward()
        (y, x.grad)"""),
    C("G24", """
        x = mc.tensor(rnd(2, 3), requires_grad=True)
        (F.log_softmax(x) * mc.tensor(rnd(2, 3, seed=1))).sum().backward()
        x.grad""", """
        x = tt(rnd(2, 3), grad=True)
        (torch.log_softmax(x, -1) * tt(rnd(2, 3, seed=1))).sum().backward()
        x.grad"""),
    C("G25", "(mc.tensor([1.], requires_grad=True) * 2).detach().sum().backward()",
      "(tt([1.], grad=True) * 2).detach().sum().backward()"),
    C("G26", """
        x = mc.tensor([0., 1.], requires_grad=True)
        (2 ** x).sum().backward()
        x.grad""", """
        x = tt([0., 1.], grad=True)
        (2 ** x).sum().backward()
        x.grad"""),
    C("G27", """
        x = mc.tensor([0., 1.], requires_grad=True)
        (0 ** x).sum().backward()
        x.grad""", """
        x = tt([0., 1.], grad=True)
        (0 ** x).sum().backward()
        x.grad"""),
    C("G28", """
        x = mc.tensor(rnd(3, 2), requires_grad=True)
        (F.softmax(x, axis=0) * mc.tensor(rnd(3, 2, seed=1))).sum().backward()
        x.grad""", """
        x = tt(rnd(3, 2), grad=True)
        (torch.softmax(x, 0) * tt(rnd(3, 2, seed=1))).sum().backward()
        x.grad"""),
]

LOSSES = [
    C("L01", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(4, 3)), [0, 2, 1, 2], from_logits=True)",
      "tF.cross_entropy(tt(rnd(4, 3)), torch.tensor([0, 2, 1, 2]))"),
    K("L02", "F.sparse_categorical_cross_entropy(mc.tensor([[1., 0.]]), [1])",
      "keras.losses.sparse_categorical_crossentropy(torch.tensor([1]), tt([[1., 0.]])).mean()"),
    K("L03", "F.categorical_cross_entropy(mc.tensor([[0.2, 0.2], [0.9, 0.3]]), [[1., 0.], [0., 1.]])",
      "keras.losses.categorical_crossentropy(tt([[1., 0.], [0., 1.]]), tt([[0.2, 0.2], [0.9, 0.3]])).mean()"),
    K("L04", "F.binary_cross_entropy(mc.tensor([0., 1., 1., 0.5]), mc.tensor([0., 1., 0., 1.]))",
      "keras.losses.binary_crossentropy(tt([[0.], [1.], [0.], [1.]]), tt([[0.], [1.], [1.], [0.5]])).mean()"),
    C("L05", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(2, 3)), [0, 3], from_logits=True)",
      "tF.cross_entropy(tt(rnd(2, 3)), torch.tensor([0, 3]))"),
    C("L06", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(2, 3)), [0, -1], from_logits=True)",
      "tF.cross_entropy(tt(rnd(2, 3)), torch.tensor([0, -1]))"),
    C("L07", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(2, 3)), [0., 1.5], from_logits=True)",
      "tF.cross_entropy(tt(rnd(2, 3)), torch.tensor([0., 1.5]))"),
    K("L08", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(3, 4)), [[1], [0], [3]], from_logits=True)",
      "keras.losses.SparseCategoricalCrossentropy(from_logits=True)(torch.tensor([[1], [0], [3]]), tt(rnd(3, 4)))"),
    C("L09", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(4, 3)), [0, 2, 1, 2], from_logits=True, "
      "label_smoothing=0.2)", "tF.cross_entropy(tt(rnd(4, 3)), torch.tensor([0, 2, 1, 2]), label_smoothing=0.2)"),
    K("L10", "mc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(mc.tensor([[1.], [0.]]), "
      "mc.tensor([[2.], [-1.]]))", "keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)"
      "(tt([[1.], [0.]]), tt([[2.], [-1.]]))"),
    K("L11", "mc.losses.SparseCategoricalCrossentropy(from_logits=True)(mc.tensor([0, 2]), mc.tensor(rnd(2, 3)), "
      "sample_weight=mc.tensor([1., 3.]))", "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"
      "(torch.tensor([0, 2]), tt(rnd(2, 3)), sample_weight=tt([1., 3.]))"),
    C("L12", "F.sparse_categorical_cross_entropy(mc.zeros(0, 3), mc.tensor(np.zeros(0, np.int64)), from_logits=True)",
      "tF.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64))"),
    K("L13", "mc.losses.SparseCategoricalCrossentropy()(mc.tensor([1]), mc.tensor([[2., -1.]]))",
      "keras.losses.SparseCategoricalCrossentropy()(torch.tensor([1]), tt([[2., -1.]]))"),
    K("L14", "F.binary_cross_entropy(mc.tensor([[0.3], [0.8]]), mc.tensor([0., 1.]))",
      "keras.losses.BinaryCrossentropy()(tt([0., 1.]), tt([[0.3], [0.8]]))"),
    C("L15", "F.categorical_cross_entropy(mc.tensor(rnd(2, 3)), [[0, 1, 0], [1, 0, 0]], from_logits=True)",
      "tF.cross_entropy(tt(rnd(2, 3)), tt([[0, 1, 0], [1, 0, 0]]))"),
    C("L16", "F.sparse_categorical_cross_entropy(mc.tensor(rnd(2, 3)), [0, 1], from_logits=True, label_smoothing=1.5)",
      "tF.cross_entropy(tt(rnd(2, 3)), torch.tensor([0, 1]), label_smoothing=1.5)"),
    C("L17", "F.categorical_cross_entropy(mc.tensor(rnd(2, 3)), [[0, 1], [1, 0]], from_logits=True)",
      "tF.cross_entropy(tt(rnd(2, 3)), tt([[0, 1], [1, 0]]))"),
]

CONV_POOL = [
    C("C01", "F.conv2d(mc.tensor(rnd(2, 3, 7, 7)), mc.tensor(rnd(4, 3, 3, 3, seed=1)), mc.tensor(rnd(4, seed=2)), "
      "stride=2, padding=1)", "tF.conv2d(tt(rnd(2, 3, 7, 7)), tt(flipk(rnd(4, 3, 3, 3, seed=1))), tt(rnd(4, seed=2)), "
      "stride=2, padding=1)", rtol=1e-4, atol=1e-5),
    K("C02", "mc_layer(L.Conv2D(2, 3, strides=2, padding='same'), rnd(1, 3, 8, 8), conv_weights(2, 3, 3))",
      "k_layer(K.Conv2D(2, 3, strides=2, padding='same', data_format='channels_first'), rnd(1, 3, 8, 8), "
      "conv_weights(2, 3, 3, keras=True))", rtol=1e-4, atol=1e-5),
    K("C03", "mc_layer(L.Conv2D(2, 4, strides=2, padding='same'), rnd(1, 3, 7, 7), conv_weights(2, 3, 4))",
      "k_layer(K.Conv2D(2, 4, strides=2, padding='same', data_format='channels_first'), rnd(1, 3, 7, 7), "
      "conv_weights(2, 3, 4, keras=True))", rtol=1e-4, atol=1e-5),
    K("C04", "mc_layer(L.Conv2D(2, 1, strides=3, padding='same'), rnd(1, 3, 7, 7), conv_weights(2, 3, 1))",
      "k_layer(K.Conv2D(2, 1, strides=3, padding='same', data_format='channels_first'), rnd(1, 3, 7, 7), "
      "conv_weights(2, 3, 1, keras=True))", rtol=1e-4, atol=1e-5),
    C("C05", "F.conv2d(mc.zeros(1, 1, 2, 2), mc.zeros(1, 1, 3, 3))",
      "tF.conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))"),
    C("C06", "F.conv2d(mc.tensor(rnd(1, 2, 5, 5)), mc.tensor(rnd(3, 2, 3, 3, seed=1)), padding=(1, 2))",
      "tF.conv2d(tt(rnd(1, 2, 5, 5)), tt(flipk(rnd(3, 2, 3, 3, seed=1))), padding=(1, 2))", rtol=1e-4, atol=1e-5),
    C("C07", "F.conv2d(mc.zeros(1, 1, 5, 5), mc.zeros(1, 1, 3, 3), padding=-1)",
      "tF.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), padding=-1)"),
    K("C08", "mc_layer(L.Conv2D(2, 3, padding='SAME'), rnd(1, 3, 5, 5), conv_weights(2, 3, 3))",
      "k_layer(K.Conv2D(2, 3, padding='SAME', data_format='channels_first'), rnd(1, 3, 5, 5), "
      "conv_weights(2, 3, 3, keras=True))", rtol=1e-4, atol=1e-5),
    C("C09", "F.max_pool2d(mc.tensor(rnd(1, 2, 7, 7)), 3, stride=2)",
      "tF.max_pool2d(tt(rnd(1, 2, 7, 7)), 3, stride=2)"),
    K("C10", "mc_layer(L.MaxPooling2D(2, padding='same'), rnd(1, 2, 5, 5))",
      "k_layer(K.MaxPooling2D(2, padding='same', data_format='channels_first'), rnd(1, 2, 5, 5))"),
    K("C11", "mc_layer(L.AveragePooling2D(2, padding='same'), rnd(1, 2, 5, 5))",
      "k_layer(K.AveragePooling2D(2, padding='same', data_format='channels_first'), rnd(1, 2, 5, 5))"),
    C("C12", "F.max_pool2d(mc.tensor(rnd(1, 1, 4, 6)), (2, 3))", "tF.max_pool2d(tt(rnd(1, 1, 4, 6)), (2, 3))"),
    C("C13", "F.max_pool2d(mc.zeros(1, 1, 2, 2), 3)", "tF.max_pool2d(torch.zeros(1, 1, 2, 2), 3)"),
    K("C14", "mc_layer(L.MaxPooling2D(np.int64(2)), rnd(1, 1, 4, 4))",
      "k_layer(K.MaxPooling2D(2, data_format='channels_first'), rnd(1, 1, 4, 4))"),   # Keras refuses np.int64: its int
    K("C15", "mc_layer(L.Conv2D(np.int64(2), np.int64(3)), rnd(1, 1, 4, 4)).shape",
      "tuple(k_layer(K.Conv2D(2, 3, data_format='channels_first'), rnd(1, 1, 4, 4)).shape)"),   # as for C14
    K("C16", "mc_layer(L.Conv2D(2, (3,)), rnd(1, 1, 4, 4)).shape",
      "tuple(k_layer(K.Conv2D(2, (3,), data_format='channels_first'), rnd(1, 1, 4, 4)).shape)"),
    K("C17", "mc_layer(L.GlobalAveragePooling2D(), rnd(2, 3, 4, 5))",
      "k_layer(K.GlobalAveragePooling2D(data_format='channels_first'), rnd(2, 3, 4, 5))"),
    K("C18", "mc_layer(L.Conv1D(2, 3, strides=2, padding='same'), rnd(1, 3, 8), conv_weights(2, 3, 3, ndim=3))",
      "k_layer(K.Conv1D(2, 3, strides=2, padding='same', data_format='channels_first'), rnd(1, 3, 8), "
      "conv_weights(2, 3, 3, ndim=3, keras=True))", rtol=1e-4, atol=1e-5),
    C("C19", "F.conv2d(mc.zeros(1, 1, 5, 5), mc.zeros(1, 1, 3, 3), stride=0)",
      "tF.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(1, 1, 3, 3), stride=0)"),
    C("C20", "F.conv2d(mc.zeros(1, 1, 5, 5), mc.zeros(2, 1, 3, 3), mc.zeros(3))",
      "tF.conv2d(torch.zeros(1, 1, 5, 5), torch.zeros(2, 1, 3, 3), torch.zeros(3))"),
    C("C21", "F.conv2d(mc.tensor(rnd(1, 2, 5, 5)), mc.tensor(rnd(3, 2, 2, 2, seed=1)), padding='same')",
      "tF.conv2d(tt(rnd(1, 2, 5, 5)), tt(flipk(rnd(3, 2, 2, 2, seed=1))), padding='same')", rtol=1e-4, atol=1e-5),
    C("C22", "F.max_pool2d(mc.tensor(rnd(1, 2, 6, 6)), 3, stride=2, padding=1)",
      "tF.max_pool2d(tt(rnd(1, 2, 6, 6)), 3, stride=2, padding=1)"),
    C("C23", "F.avg_pool2d(mc.tensor(rnd(1, 2, 4, 4)), 2, stride=1)",
      "tF.avg_pool2d(tt(rnd(1, 2, 4, 4)), 2, stride=1)"),
    K("C24", "mc_layer(L.Resizing(4, 4), rnd(1, 1, 8, 8))",
      "k_layer(K.Resizing(4, 4, data_format='channels_first'), rnd(1, 1, 8, 8))", rtol=1e-4, atol=1e-5),
    K("C25", "mc_layer(L.Resizing(6, 6), rnd(1, 1, 3, 3))",
      "k_layer(K.Resizing(6, 6, data_format='channels_first'), rnd(1, 1, 3, 3))", rtol=1e-4, atol=1e-5),
    K("C26", "L.Conv2D(2, 3, dilation_rate=2)", "K.Conv2D(2, 3, dilation_rate=2).dilation_rate"),
    C("C27", "F.conv2d(mc.tensor(rnd(1, 1, 5, 5)), mc.tensor(rnd(1, 1, 2, 2, seed=1)), stride=3)",
      "tF.conv2d(tt(rnd(1, 1, 5, 5)), tt(flipk(rnd(1, 1, 2, 2, seed=1))), stride=3)", rtol=1e-4, atol=1e-5),
]

OPTIMIZERS = [
    C("O01", "mc.optimizers.SGD(mc_params(), momentum=-0.5)",
      "torch.optim.SGD(torch_params(), lr=0.01, momentum=-0.5)"),
    C("O02", "mc.optimizers.SGD(mc_params(), nesterov=True)",
      "torch.optim.SGD(torch_params(), lr=0.01, nesterov=True)"),
    C("O03", "mc.optimizers.Adam(mc_params(), beta_1=1.0)", "torch.optim.Adam(torch_params(), betas=(1.0, 0.999))"),
    C("O04", "mc.optimizers.Adam(mc_params(), beta_2=1.5)", "torch.optim.Adam(torch_params(), betas=(0.9, 1.5))"),
    C("O05", "mc.optimizers.Adam(mc_params(), epsilon=-1)", "torch.optim.Adam(torch_params(), eps=-1)"),
    C("O06", "mc_steps(lambda p: mc.optimizers.RMSprop(p, lr=0.01, rho=1.5))",
      "torch_steps(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=1.5))"),
    C("O07", "mc.optimizers.RMSprop(mc_params(), momentum=-1)", "torch.optim.RMSprop(torch_params(), momentum=-1)"),
    C("O08", "mc_steps(lambda p: mc.optimizers.SGD(p, lr=0))", "torch_steps(lambda p: torch.optim.SGD(p, lr=0))"),
    C("O09", "mc.optimizers.SGD(mc_params(), lr='0.1')", "torch.optim.SGD(torch_params(), lr='0.1')"),
    C("O10", "mc_steps(lambda p: mc.optimizers.SGD(p, lr=True))", "torch_steps(lambda p: torch.optim.SGD(p, lr=True))"),
    C("O11", "mc.optimizers.SGD(mc_params(), lr=float('nan'))", "torch.optim.SGD(torch_params(), lr=float('nan'))"),
    C("O12", "mc.optimizers.SGD(mc_params(), weight_decay=-1)",
      "torch.optim.SGD(torch_params(), lr=0.1, weight_decay=-1)"),
    C("O13", "mc.optimizers.SGD(small_cnn().parameters, lr=0.1)",
      "torch.optim.SGD(torch.nn.Linear(2, 1).parameters, lr=0.1)"),
    C("O14", "mc.optimizers.SGD([], lr=0.1)", "torch.optim.SGD([], lr=0.1)"),
    C("O15", "mc.optimizers.SGD(mc.zeros(3, requires_grad=True), lr=0.1)",
      "torch.optim.SGD(torch.zeros(3, requires_grad=True), lr=0.1)"),
    C("O16", "mc_steps(lambda p: mc.optimizers.SGD(p, lr=0.05, momentum=0.9))",
      "torch_steps(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))"),
    C("O17", "mc_steps(lambda p: mc.optimizers.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1))",
      "torch_steps(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1))"),
    C("O18", "mc_steps(lambda p: mc.optimizers.Adam(p, lr=0.1, weight_decay=0.1))",
      "torch_steps(lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.1))"),
    C("O19", "mc_steps(lambda p: mc.optimizers.AdamW(p, lr=0.1, weight_decay=0.1))",
      "torch_steps(lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=0.1))"),
    C("O20", "mc_steps(lambda p: mc.optimizers.RMSprop(p, lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-7))",
      "torch_steps(lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, eps=1e-7))"),
    C("O21", """
        s = mc.schedules.OneCycle(max_lr=0.1, total_steps=100)
        [s(k) for k in (0, 10, 29, 50, 99)]""", """
        lrs = one_cycle_lrs(max_lr=0.1, total_steps=100)
        [lrs[k] for k in (0, 10, 29, 50, 99)]"""),
    K("O22", """
        s = mc.schedules.CosineDecay(0.1, total_steps=100, min_lr=0.01)
        [s(k) for k in (0, 30, 100, 150)]""", """
        s = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
        [float(s(k)) for k in (0, 30, 100, 150)]"""),
    K("O23", """
        s = mc.schedules.StepDecay(0.1, decay_steps=10, gamma=0.5)
        [s(k) for k in (0, 9, 10, 25)]""", """
        s = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
        [float(s(k)) for k in (0, 9, 10, 25)]"""),
    E("O24", """
        opt = mc.optimizers.SGD(mc_params(), lr=mc.schedules.CosineDecay(0.1))
        opt.step()""", "refuse('a schedule whose total_steps is unset, used outside fit')"),
    E("O25", "mc.schedules.StepDecay(0.1, decay_steps=0)(5)", "refuse('decay_steps=0')"),
    C("O26", "mc.optimizers.Adam(mc_params(), amsgrad=True)",
      "torch.optim.Adam(torch_params(), amsgrad=True).defaults['amsgrad']"),
    K("O27", """
        opt = mc.optimizers.SGD(lr=0.1)
        opt.learning_rate = -1
        opt.learning_rate""", """
        opt = keras.optimizers.SGD(0.1)
        opt.learning_rate = -1
        float(opt.learning_rate)"""),
    C("O28", "mc_steps(lambda p: mc.optimizers.SGD(p, lr=np.float32(0.1)))",
      "torch_steps(lambda p: torch.optim.SGD(p, lr=np.float32(0.1)))"),
    C("O29", "mc.optimizers.SGD([mc.tensor([1.], requires_grad=True) * 2], lr=0.1)",
      "torch.optim.SGD([tt([1.], grad=True) * 2], lr=0.1)"),
]

STATE_BINDING = [
    K("B01", """
        opt, m1, m2 = mc.optimizers.SGD(lr=0.1), dense_model(), dense_model()
        m1.compile(opt, bce()); m2.compile(opt, bce())
        m1.fit(*toy_features(), verbose=0); before = m2.get_weights()
        m2.fit(*toy_features(), verbose=0)
        changed(before, m2.get_weights())""", """
        opt, m1, m2 = keras.optimizers.SGD(0.1), k_dense_model(), k_dense_model()
        m1.compile(opt, k_bce()); m2.compile(opt, k_bce())
        m1.fit(*toy_features(), verbose=0); before = m2.get_weights()
        m2.fit(*toy_features(), verbose=0)
        changed(before, m2.get_weights())"""),
    K("B02", """
        m = dense_model(3); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.add(L.Dense(1)); m.fit(*toy_features(), verbose=0); before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())""", """
        m = k_dense_model(3); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.add(K.Dense(1)); m.fit(*toy_features(), verbose=0); before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())"""),
    K("B03", """
        m = dense_model(); m.layers[0].trainable = False
        m.compile(mc.optimizers.SGD(lr=0.1), bce()); before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())""", """
        m = k_dense_model(); m.layers[0].trainable = False
        m.compile(keras.optimizers.SGD(0.1), k_bce()); before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())"""),
    K("B04", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.layers[0].trainable = False; before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.layers[0].trainable = False; before = m.get_weights()
        m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())"""),
    K("B05", """
        m = Nested(mc.Model, L.Dense, lambda: [[L.Dense(2), L.Dense(2)], [L.Dense(2)]])
        m(mc.zeros(1, 4))
        m.count_params()""", """
        m = Nested(keras.Model, K.Dense, lambda: [[K.Dense(2), K.Dense(2)], [K.Dense(2)]])
        m(torch.zeros(1, 4))
        m.count_params()"""),
    K("B06", """
        m = Nested(mc.Model, L.Dense, lambda: {'a': [L.Dense(2)], 'b': {'c': L.Dense(2)}})
        m(mc.zeros(1, 4))
        m.count_params()""", """
        m = Nested(keras.Model, K.Dense, lambda: {'a': [K.Dense(2)], 'b': {'c': K.Dense(2)}})
        m(torch.zeros(1, 4))
        m.count_params()"""),
    C("B07", """
        m = mc.Sequential([L.Dense(1)])
        opt = mc.optimizers.SGD(m.parameters(), lr=0.1)
        m(mc.ones(2, 3)).sum().backward(); before = m.get_weights(); opt.step()
        changed(before, m.get_weights())""", """
        m = torch.nn.LazyLinear(1)
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        m(torch.ones(2, 3)).sum().backward(); before = [p.detach().clone() for p in m.parameters()]; opt.step()
        changed(before, list(m.parameters()))"""),
    K("B08", """
        m = Shared(mc.Model, L.Dense)
        m(mc.zeros(1, 2))
        m.count_params()""", """
        m = Shared(keras.Model, K.Dense)
        m(torch.zeros(1, 2))
        m.count_params()"""),
    K("B09", """
        m = mc.Sequential([L.Dense(3), L.Dense(1)], input_shape=(4,)); m.layers[0].trainable = False
        (len(m.trainable_weights), len(m.non_trainable_weights))""", """
        m = keras.Sequential([keras.Input((4,)), K.Dense(3), K.Dense(1)]); m.layers[0].trainable = False
        (len(m.trainable_weights), len(m.non_trainable_weights))"""),
    K("B10", """
        m = mc.Sequential([L.BatchNormalization(), L.Dense(1)], input_shape=(4,)); m.layers[0].trainable = False
        m.compile(mc.optimizers.SGD(lr=0.1), bce()); m.fit(*toy_features(), verbose=0)
        m.layers[0].get_weights()""", """
        m = keras.Sequential([keras.Input((4,)), K.BatchNormalization(axis=1), K.Dense(1)])
        m.layers[0].trainable = False
        m.compile(keras.optimizers.SGD(0.1), k_bce()); m.fit(*toy_features(), verbose=0)
        m.layers[0].get_weights()"""),
    K("B11", """
        w = [np.ones((4, 1), np.float32), np.zeros(1, np.float32)]
        m = dense_model(); m.set_weights(w); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), verbose=0)
        w[0].ravel()""", """
        w = [np.ones((4, 1), np.float32), np.zeros(1, np.float32)]
        m = k_dense_model(); m.set_weights(w); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), verbose=0)
        w[0].ravel()"""),
    K("B12", """
        m = dense_model(); m.get_weights()[0][:] = 7.
        bool((m.get_weights()[0] == 7).all())""", """
        m = k_dense_model(); m.get_weights()[0][:] = 7.
        bool((m.get_weights()[0] == 7).all())"""),
    K("B13", """
        m = mc.Sequential([L.Dense(1)]); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), verbose=0); before = m.get_weights(); m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())""", """
        m = keras.Sequential([K.Dense(1)]); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), verbose=0); before = m.get_weights(); m.fit(*toy_features(), verbose=0)
        changed(before, m.get_weights())"""),
    K("B14", """
        m = Nested(mc.Model, L.Dense, lambda: (L.Dense(2), L.Dense(3)))
        m(mc.zeros(1, 4))
        m.count_params()""", """
        m = Nested(keras.Model, K.Dense, lambda: (K.Dense(2), K.Dense(3)))
        m(torch.zeros(1, 4))
        m.count_params()"""),
]

CALLBACKS = [
    K("K01", "drive(mc.callbacks.EarlyStopping('val_loss', patience=2), [1., .9, .95, .96, .97, .98])",
      "drive(keras.callbacks.EarlyStopping('val_loss', patience=2), [1., .9, .95, .96, .97, .98])"),
    K("K02", "drive(mc.callbacks.EarlyStopping('val_loss', patience=0), [1., 2., 3.])",
      "drive(keras.callbacks.EarlyStopping('val_loss', patience=0), [1., 2., 3.])"),
    K("K03", "drive(mc.callbacks.EarlyStopping('val_loss', patience=1, mode='minimum'), [1., 2., 3.])",
      "drive(keras.callbacks.EarlyStopping('val_loss', patience=1, mode='minimum'), [1., 2., 3.])"),
    K("K04", "drive(mc.callbacks.EarlyStopping('val_loss', patience=5, restore_best_weights=True), [1., .5, .7])",
      "drive(keras.callbacks.EarlyStopping('val_loss', patience=5, restore_best_weights=True), [1., .5, .7])"),
    K("K05", "drive(mc.callbacks.EarlyStopping('val_loss', patience=2), [1., np.nan, np.nan, np.nan])",
      "drive(keras.callbacks.EarlyStopping('val_loss', patience=2), [1., np.nan, np.nan, np.nan])"),
    K("K06", "drive(mc.callbacks.ReduceLROnPlateau(patience=1, min_lr=1e-4), [1., 1., 1.], lr=1e-5)",
      "drive(keras.callbacks.ReduceLROnPlateau(patience=1, min_lr=1e-4), [1., 1., 1.], lr=1e-5)"),
    K("K07", "drive(mc.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2), [1.] * 8, lr=1.)",
      "drive(keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2), [1.] * 8, lr=1.)"),
    K("K08", "drive(mc.callbacks.ReduceLROnPlateau(patience=1, mode='maximum'), [1., 2., 3.], lr=1.)",
      "drive(keras.callbacks.ReduceLROnPlateau(patience=1, mode='maximum'), [1., 2., 3.], lr=1.)"),
    K("K09", "mc.callbacks.ReduceLROnPlateau(factor=1.0)", "keras.callbacks.ReduceLROnPlateau(factor=1.0)"),
    K("K10", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=mc.schedules.CosineDecay(0.1, 100)), bce())
        m.fit(*toy_features(), epochs=2, verbose=0,
              callbacks=[mc.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(0.1, 100)), k_bce())
        m.fit(*toy_features(), epochs=2, verbose=0,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])"""),
    K("K11", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), epochs=3, verbose=0,
              callbacks=[mc.callbacks.LearningRateScheduler(lambda e: 0.1 / (e + 1))])
        m.optimizer.learning_rate""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), epochs=3, verbose=0,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda e: 0.1 / (e + 1))])
        float(m.optimizer.learning_rate)"""),
    K("K12", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        len(m.fit(*toy_features(), epochs=3, verbose=0,
                  callbacks=mc.callbacks.EarlyStopping('loss')).history['loss'])""",
      """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        len(m.fit(*toy_features(), epochs=3, verbose=0,
                  callbacks=keras.callbacks.EarlyStopping('loss')).history['loss'])"""),
    K("K13", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce(), metrics=['accuracy'])
        sorted(m.fit(*toy_features(), validation_data=toy_features(1), verbose=0).history)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce(), metrics=['accuracy'])
        sorted(m.fit(*toy_features(), validation_data=toy_features(1), verbose=0).history)"""),
    K("K14", "type(mc.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: None)).__name__",
      "type(keras.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: None)).__name__"),
    K("K15", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=mc.schedules.StepDecay(0.1, 10)), bce())
        cb = mc.callbacks.ReduceLROnPlateau('loss', patience=0, min_delta=10)
        len(m.fit(*toy_features(), epochs=3, verbose=0, callbacks=[cb]).history['loss'])""",
      """
        m = k_dense_model()
        m.compile(keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.1)), k_bce())
        cb = keras.callbacks.ReduceLROnPlateau('loss', patience=0, min_delta=10)
        len(m.fit(*toy_features(), epochs=3, verbose=0, callbacks=[cb]).history['loss'])"""),
    K("K16", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), verbose=0, callbacks=[mc.callbacks.LearningRateScheduler(lambda e, lr: 'fast')])""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), verbose=0, callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: 'fast')])"""),
    K("K17", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce(), metrics=['accuracy'])
        m.fit(*toy_features(), validation_data=toy_features(1), verbose=0,
              callbacks=[mc.callbacks.CSVLogger(f'{tmp}/log.csv')])
        open(f'{tmp}/log.csv').readline().strip()""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce(), metrics=['accuracy'])
        m.fit(*toy_features(), validation_data=toy_features(1), verbose=0,
              callbacks=[keras.callbacks.CSVLogger(f'{tmp}/log.csv')])
        open(f'{tmp}/log.csv').readline().strip()"""),
    K("K18", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        len(m.fit(*toy_features(), epochs=4, verbose=0,
                  callbacks=[mc.callbacks.EarlyStopping('val_loss')]).history['loss'])""",
      """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        cb = keras.callbacks.EarlyStopping('val_loss')
        len(m.fit(*toy_features(), epochs=4, verbose=0, callbacks=[cb]).history['loss'])"""),
]

METRICS = [
    K("M01", """
        m = mc.Sequential([L.Dense(3, activation='sigmoid')], input_shape=(4,)); m.set_weights(multi_label_weights())
        m.compile(mc.optimizers.SGD(lr=0.1), mc.losses.BinaryCrossentropy(), metrics=['accuracy'])
        m.evaluate(*multi_label_data())""", """
        m = keras.Sequential([keras.Input((4,)), K.Dense(3, activation='sigmoid')])
        m.set_weights(multi_label_weights())
        m.compile(keras.optimizers.SGD(0.1), keras.losses.BinaryCrossentropy(),  # Keras 3's 'accuracy' string
                  metrics=[keras.metrics.BinaryAccuracy(name='accuracy')])        # picks categorical by shape here
        m.evaluate(*multi_label_data(), verbose=0)""", rtol=1e-4),
    E("M02", "mc.metrics.confusion_matrix([0, 3], [0, 1], num_classes=2)", "refuse('label 3 with num_classes=2')"),
    E("M03", "mc.metrics.confusion_matrix([0, -1], [0, 1])", "refuse('negative label')"),
    E("M04", "mc.metrics.confusion_matrix([0.5, 1], [0, 1])", "refuse('a label that is not an integer')"),
    E("M05", "mc.metrics.confusion_matrix([0, 1], [1, 1], num_classes=0)", "refuse('num_classes=0')"),
    E("M06", "mc.metrics.confusion_matrix([0, 1, 1], [0, 1, 0])", "np.array([[1, 0], [1, 1]])"),
    E("M07", "mc.metrics.predicted_classes(np.array([[0.3], [0.8]]))", "refuse('one unit: logits or probabilities?')"),
    K("M08", """
        m = mc.Sequential([L.Dense(3)], input_shape=(4,)); m.set_weights([rnd(4, 3, seed=5), np.zeros(3, np.float32)])
        m.compile(mc.optimizers.SGD(lr=0.1), sparse_ce(), metrics=['accuracy'])
        m.evaluate(rnd(10, 4), np.arange(10) % 3)""", """
        m = keras.Sequential([keras.Input((4,)), K.Dense(3)])
        m.set_weights([rnd(4, 3, seed=5), np.zeros(3, np.float32)])
        m.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
        m.evaluate(rnd(10, 4), np.arange(10) % 3, verbose=0)""", rtol=1e-4),
    K("M09", """
        m = mc.Sequential([L.Dense(1, activation='sigmoid')], input_shape=(4,))
        m.set_weights([rnd(4, 1, seed=5), np.zeros(1, np.float32)])
        m.compile(mc.optimizers.SGD(lr=0.1), mc.losses.BinaryCrossentropy(), metrics=['accuracy'])
        m.evaluate(rnd(10, 4), (np.arange(10) % 2).astype(np.float32))""", """
        m = keras.Sequential([keras.Input((4,)), K.Dense(1, activation='sigmoid')])
        m.set_weights([rnd(4, 1, seed=5), np.zeros(1, np.float32)])
        m.compile(keras.optimizers.SGD(0.1), keras.losses.BinaryCrossentropy(), metrics=['accuracy'])
        m.evaluate(rnd(10, 4), (np.arange(10) % 2).astype(np.float32), verbose=0)""", rtol=1e-4),
    K("M10", "dense_model().compile('sgd', bce(), metrics=['mae'])",
      "k_dense_model().compile('sgd', k_bce(), metrics=['mae'])"),
    E("M11", "mc.metrics.predicted_classes(np.array([[0.3, 0.7], [0.8, 0.2]]))", "np.array([1, 0])"),
]

MODES = [
    K("E01", """
        m = dropout_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce()); m.fit(*toy_features(), verbose=0)
        x = toy_features()[0]
        bool(np.allclose(m(mc.tensor(x)).numpy(), m.predict(x)))""", """
        m = k_dropout_model(); m.compile(keras.optimizers.SGD(0.1), k_bce()); m.fit(*toy_features(), verbose=0)
        x = toy_features()[0]
        bool(np.allclose(m(torch.tensor(x)).detach().numpy(), m.predict(x, verbose=0)))"""),
    K("E02", """
        m = dropout_model(); m.save(f'{tmp}/m.npz'); m = mc.load_model(f'{tmp}/m.npz')
        x = toy_features()[0]
        bool(np.allclose(m(mc.tensor(x)).numpy(), m.predict(x)))""", """
        m = k_dropout_model(); m.save(f'{tmp}/m.keras'); m = keras.models.load_model(f'{tmp}/m.keras')
        x = toy_features()[0]
        bool(np.allclose(m(torch.tensor(x)).detach().numpy(), m.predict(x, verbose=0)))"""),
    # a layer or model not compiled is in training mode, as a PyTorch module (docs/conformance.md): PyTorch's
    # modules are the reference here; a compiled one infers, as in Keras (E07)
    C("E03", """
        m = mc.Sequential([L.BatchNormalization(momentum=0.9), L.Dense(1)], input_shape=(4,))
        m(mc.tensor(toy_features()[0] + 5))
        m.layers[0].moving_mean.numpy()""", """
        m = torch.nn.Sequential(torch.nn.BatchNorm1d(4, momentum=0.1), torch.nn.Linear(4, 1))
        m(torch.tensor(toy_features()[0] + 5))
        m[0].running_mean.numpy()""", rtol=1e-4),
    C("E04", """
        x = toy_features()[0]
        m = dropout_model()
        bool(np.allclose(m(mc.tensor(x)).numpy(), m.predict(x)))""", """
        x = torch.tensor(toy_features()[0])
        m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
        out = m(x); m.eval()
        bool(np.allclose(out.detach().numpy(), m(x).detach().numpy()))"""),
    C("E05", "bool((L.Dropout(0.5)(mc.ones(1, 64)).numpy() == 0).any())",
      "bool((torch.nn.Dropout(0.5)(torch.ones(1, 64)) == 0).any())"),
    K("E07", """
        x = toy_features()[0]
        m = dropout_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        bool(np.allclose(m(mc.tensor(x)).numpy(), m.predict(x)))""", """
        x = toy_features()[0]
        m = k_dropout_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        bool(np.allclose(m(torch.tensor(x)).detach().numpy(), m.predict(x, verbose=0)))"""),
    E("E06", """
        m = dropout_model(); m.eval(); m.predict(toy_features()[0])
        m.training""", "False"),
]

SAVING = [
    E("V01", """
        small_cnn().save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').predict(rnd(4, 1, 6, 6))""", "small_cnn().predict(rnd(4, 1, 6, 6))"),
    E("V02", """
        residual_model().save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').predict(rnd(4, 2, 6, 6))""", "residual_model().predict(rnd(4, 2, 6, 6))"),
    K("V03", """
        m = dense_model(); m.compile(mc.optimizers.Adam(lr=0.05), bce()); data = toy_features()
        m.fit(*data, epochs=1, shuffle=False, verbose=0); m.save(f'{tmp}/m.npz')
        r = mc.load_model(f'{tmp}/m.npz'); r.fit(*data, epochs=1, shuffle=False, verbose=0)
        m.fit(*data, epochs=1, shuffle=False, verbose=0)
        bool(np.allclose(r.get_weights()[0], m.get_weights()[0], atol=1e-6))""", """
        m = k_dense_model(); m.compile(keras.optimizers.Adam(0.05), k_bce()); data = toy_features()
        m.fit(*data, epochs=1, shuffle=False, verbose=0); m.save(f'{tmp}/m.keras')
        r = keras.models.load_model(f'{tmp}/m.keras'); r.fit(*data, epochs=1, shuffle=False, verbose=0)
        m.fit(*data, epochs=1, shuffle=False, verbose=0)
        bool(np.allclose(r.get_weights()[0], m.get_weights()[0], atol=1e-6))"""),
    K("V04", """
        mc.Sequential([L.Dense(np.int64(4))], input_shape=(3,)).save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').layers[0].units""", """
        keras.Sequential([keras.Input((3,)), K.Dense(4)]).save(f'{tmp}/m.keras')   # Keras refuses np.int64(4)
        keras.models.load_model(f'{tmp}/m.keras').layers[0].units"""),
    K("V05", """
        mc.Sequential([L.Dropout(np.float32(0.5))], input_shape=(3,)).save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').layers[0].rate""", """
        keras.Sequential([keras.Input((3,)), K.Dropout(np.float32(0.5))]).save(f'{tmp}/m.keras')
        keras.models.load_model(f'{tmp}/m.keras').layers[0].rate"""),
    K("V06", """
        mc.Sequential([L.Rescaling(np.float32(0.5))], input_shape=(3,)).save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').predict(np.ones((1, 3), np.float32))""", """
        keras.Sequential([keras.Input((3,)), K.Rescaling(np.float32(0.5))]).save(f'{tmp}/m.keras')
        keras.models.load_model(f'{tmp}/m.keras').predict(np.ones((1, 3), np.float32), verbose=0)"""),
    K("V07", """
        mc.Sequential([L.Dense(2, activation=mc.F.relu)], input_shape=(3,)).save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').layers[0].units""", """
        keras.Sequential([keras.Input((3,)), K.Dense(2, activation=keras.activations.relu)]).save(f'{tmp}/m.keras')
        keras.models.load_model(f'{tmp}/m.keras').layers[0].units"""),
    E("V08", """
        m = dense_model(); m.compile(mc.optimizers.Adam(lr=lambda step: 1e-3), bce())
        m.save(f'{tmp}/m.npz')
        type(mc.load_model(f'{tmp}/m.npz')).__name__""", "'Sequential'"),
    E("V09", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=mc.schedules.CosineDecay(0.1, 100)), bce())
        m.save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').optimizer.lr(30)""", "mc.schedules.CosineDecay(0.1, 100)(30)"),
    E("V10", """
        m = mc.Sequential([L.Normalization().adapt(rnd(8, 2, 3, 3)), L.Flatten(), L.Dense(1)], input_shape=(2, 3, 3))
        m.save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').predict(rnd(2, 2, 3, 3, seed=1))""", """
        m = mc.Sequential([L.Normalization().adapt(rnd(8, 2, 3, 3)), L.Flatten(), L.Dense(1)], input_shape=(2, 3, 3))
        m.predict(rnd(2, 2, 3, 3, seed=1))"""),
    E("V11", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce(), metrics=['accuracy'])
        m.save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').evaluate(*toy_features())""", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce(), metrics=['accuracy'])
        m.evaluate(*toy_features())"""),
    E("V12", """
        dense_model().save_weights(f'{tmp}/w.npz')
        mc.load_model(f'{tmp}/w.npz')""", "refuse('a weights-only file has no architecture')"),
    E("V13", "mc.Sequential([L.Dense(2)]).save(f'{tmp}/m.npz')", "refuse('the model has no weights yet')"),
    K("V14", """
        m = dense_model(); m.layers[0].trainable = False; m.save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').layers[0].trainable""", """
        m = k_dense_model(); m.layers[0].trainable = False; m.save(f'{tmp}/m.keras')
        keras.models.load_model(f'{tmp}/m.keras').layers[0].trainable"""),
    E("V15", """
        m = bn_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce()); m.fit(*toy_features(), verbose=0)
        m.save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').predict(toy_features(1)[0])""", """
        m = bn_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce()); m.fit(*toy_features(), verbose=0)
        m.predict(toy_features(1)[0])"""),
    E("V16", """
        os.mkdir(f'{tmp}/m.npz')
        dense_model().save(f'{tmp}/m.npz')""", "refuse('the path is a directory')"),
    E("V17", """
        dense_model().save(f'{tmp}/m.npz')
        dense_model(3).load_weights(f'{tmp}/m.npz')""", "refuse('the weights do not match')"),
    K("V18", """
        mc.Sequential([L.Dense(2)], input_shape=(3,), name='mynet').save(f'{tmp}/m.npz')
        mc.load_model(f'{tmp}/m.npz').name""", """
        keras.Sequential([keras.Input((3,)), K.Dense(2)], name='mynet').save(f'{tmp}/m.keras')
        keras.models.load_model(f'{tmp}/m.keras').name"""),
    E("V19", """
        m = dense_model(); m.compile(mc.optimizers.Adam(lr=0.1), bce(), metrics=['accuracy'])
        m.save(f'{tmp}/m.npz'); r = mc.load_model(f'{tmp}/m.npz')
        len(r.fit(*toy_features(), epochs=2, verbose=0).history['accuracy'])""", "2"),
]

FILES = [   # each side in a subprocess: a FIFO or a device can block a read forever
    E("F01", "mc.load_model(tmp)", "refuse('a directory')", sub=True),
    E("F02", """
        open(f'{tmp}/e.npz', 'w').close()
        mc.load_model(f'{tmp}/e.npz')""", "refuse('an empty file')", sub=True),
    E("F03", """
        os.symlink('/dev/zero', f'{tmp}/z.npz')
        mc.load_model(f'{tmp}/z.npz')""", "refuse('a device, not a file')", sub=True),
    E("F04", """
        os.mkfifo(f'{tmp}/f.npz')
        mc.load_model(f'{tmp}/f.npz')""", "refuse('a FIFO, not a file')", sub=True),
    E("F05", """
        model_file(f'{tmp}/m.npz', replace={'0.kernel': np.full((4, 1), 'abc')})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('a weight holds strings')", sub=True),
    E("F06", """
        model_file(f'{tmp}/m.npz', replace={'0.kernel': np.full((4, 1), 1 + 2j)})
        mc.load_model(f'{tmp}/m.npz').get_weights()[0].ravel()""",
      "refuse('a weight holds complex numbers')", sub=True),
    E("F07", """
        model_file(f'{tmp}/m.npz', duplicate='0.kernel')
        mc.load_model(f'{tmp}/m.npz').get_weights()[0].ravel()""",
      "refuse('two entries named 0.kernel.npy')", sub=True),
    E("F08", """
        model_file(f'{tmp}/m.npz', spec={'format': 'minicnn-sequential', 'version': 1, 'input_shape': [4]})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('no layers in the architecture')", sub=True),
    E("F09", """
        model_file(f'{tmp}/m.npz', layer_config={'units': 1, 'bogus': 3})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('a layer config with an unknown argument')", sub=True),
    E("F10", """
        model_file(f'{tmp}/m.npz', compile={'optimizer': {'class': 'Nadam', 'config': {}},
                   'loss': {'class': 'BinaryCrossentropy', 'config': {'from_logits': True}}, 'metrics': []})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('an unknown optimizer')", sub=True),
    E("F11", """
        model_file(f'{tmp}/m.npz'); data = open(f'{tmp}/m.npz', 'rb').read()
        open(f'{tmp}/t.npz', 'wb').write(data[:len(data) // 2])
        mc.load_model(f'{tmp}/t.npz')""", "refuse('a truncated file')", sub=True),
    E("F12", """
        np.savez(f'{tmp}/p.npz', __architecture__=np.array([{'a': 1}], dtype=object))
        mc.load_model(f'{tmp}/p.npz')""", "refuse('a pickled entry')", sub=True),
    E("F13", """
        np.save(f'{tmp}/a.npy', np.zeros(3))
        mc.load_model(f'{tmp}/a.npy')""", "refuse('an .npy file')", sub=True),
    E("F14", "mc.load_model(f'{tmp}/missing.npz')", "refuse('no such file')", sub=True),
    E("F15", """
        model_file(f'{tmp}/m.npz', spec={'format': 'minicnn-sequential', 'version': 1, 'input_shape': [4],
                                         'layers': ['Dense']})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('a layer entry that is not an object')", sub=True),
    E("F16", """
        image_tree(tmp); os.mkfifo(f'{tmp}/cats/fifo.jpg')
        len(mc.data.image_folder(tmp, image_size=8))""", "4", sub=True),
    E("F17", """
        os.mkfifo(f'{tmp}/fifo.png')
        mc.data.load_image(f'{tmp}/fifo.png', (8, 8), 'RGB')""", "refuse('a FIFO, not an image file')", sub=True),
    E("F18", """
        os.mkfifo(f'{tmp}/w.npz')
        dense_model().load_weights(f'{tmp}/w.npz')""", "refuse('a FIFO, not a file')", sub=True),
    E("F19", """
        image_tree(tmp); os.symlink('/dev/zero', f'{tmp}/dogs/zero.png')
        len(mc.data.image_folder(tmp, image_size=8))""", "4", sub=True),
    E("F20", """
        model_file(f'{tmp}/m.npz', layer_config={'units': '1'})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('units is a string')", sub=True),
    E("F21", """
        model_file(f'{tmp}/m.npz', spec={'format': 'minicnn-sequential', 'version': 1, 'input_shape': 'x',
                                         'layers': [{'class': 'Dense', 'config': {'units': 1}}]})
        mc.load_model(f'{tmp}/m.npz')""", "refuse('input_shape is not a shape')", sub=True),
    E("F22", """
        image_tree(tmp); open(f'{tmp}/cats/broken.jpg', 'wb').write(b'not a jpeg')
        len(mc.data.image_folder(tmp, image_size=8))""", "4", sub=True),
]

ARGUMENTS = [
    K("A01", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        len(m.fit(*toy_features(), epochs=np.int64(2), verbose=0).history['loss'])""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        len(m.fit(*toy_features(), epochs=np.int64(2), verbose=0).history['loss'])"""),
    E("A02", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), batch_size=np.int64(4), shuffle=False, verbose=0); m.get_weights()[0].ravel()""", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), batch_size=4, shuffle=False, verbose=0); m.get_weights()[0].ravel()"""),
    K("A03", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), batch_size=4.0, verbose=0)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), batch_size=4.0, verbose=0)"""),
    K("A04", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), epochs='2', verbose=0)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), epochs='2', verbose=0)"""),
    K("A05", "L.Dense('4')", "K.Dense('4')"),
    K("A06", "mc.Sequential([L.Dense(True)], input_shape=(3,)).layers[0].kernel.shape",
      "tuple(keras.Sequential([keras.Input((3,)), K.Dense(True)]).layers[0].kernel.shape)"),
    K("A07", "L.Dropout('0.5')", "K.Dropout('0.5')"),
    K("A08", "L.Dense(4, activation='Relu')", "K.Dense(4, activation='Relu')"),
    K("A09", "dense_model().compile(mc.optimizers.SGD(lr=0.1), 'mse')",
      "k_dense_model().compile(keras.optimizers.SGD(0.1), 'mse')"),
    K("A10", "dense_model().compile(mc.optimizers.Adam, bce())",
      "k_dense_model().compile(keras.optimizers.Adam, k_bce())"),
    C("A11", "mc.tensor('abc')", "torch.tensor('abc')"),
    C("A12", "mc.tensor(None)", "torch.tensor(None)"),
    C("A13", "mc.tensor([[1, 2], [3]])", "torch.tensor([[1, 2], [3]])"),
    C("A14", "mc.zeros(-1)", "torch.zeros(-1)"),
    C("A15", "mc.zeros(2.5)", "torch.zeros(2.5)"),
    C("A16", "mc.randn(3, dtype='int64')", "torch.randn(3, dtype=torch.int64)"),
    C("A17", "mc.manual_seed('abc')", "torch.manual_seed('abc')"),
    C("A18", """
        mc.manual_seed(-1)
        'seeded'""", """
        torch.manual_seed(-1)
        'seeded'"""),
    C("A19", "mc.zeros(2, 3).reshape(-1, -1)", "torch.zeros(2, 3).reshape(-1, -1)"),
    C("A20", "mc.zeros(2, 3).reshape(5)", "torch.zeros(2, 3).reshape(5)"),
    C("A21", "mc.tensor([1.]) + 'a'", "torch.tensor([1.]) + 'a'"),
    C("A22", "mc.tensor(rnd(2, 3, 4)).transpose(0, 1).shape", "tuple(tt(rnd(2, 3, 4)).transpose(0, 1).shape)"),
    C("A23", "mc.tensor([1., 2., 3.]) @ mc.tensor([4., 5., 6.])", "tt([1., 2., 3.]) @ tt([4., 5., 6.])"),
    C("A24", "mc.set_num_threads(0)", "torch.set_num_threads(0)"),
    K("A25", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        x, y = toy_features()
        m.fit(x, y[:10], verbose=0)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        x, y = toy_features()
        m.fit(x, y[:10], verbose=0)"""),
    K("A26", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        len(m.fit(*toy_features(), class_weight={0: 1, 1: np.float32(2)}, verbose=0).history['loss'])""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        len(m.fit(*toy_features(), class_weight={0: 1, 1: np.float32(2)}, verbose=0).history['loss'])"""),
    K("A27", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(toy_features()[0], verbose=0)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(toy_features()[0], verbose=0)"""),
    E("A28", "dense_model().predict(toy_features()[0].tolist())", "dense_model().predict(toy_features()[0])"),
    K("A29", "mc.Sequential(L.Dense(2))", "keras.Sequential(K.Dense(2))"),
    E("A30", "mc.Sequential([L.Dense(2)], input_shape=4)", "refuse('input_shape=4 is not a tuple')"),
    K("A31", "mc.Input(shape=3)", "keras.Input(shape=3)"),
    K("A32", """
        m = mc.Sequential([L.Dense(2)], input_shape=(4,)); m.compile(mc.optimizers.SGD(lr=0.1), sparse_ce())
        m.fit(toy_features()[0], np.eye(2, dtype=np.float32)[toy_features()[1].astype(int)], verbose=0)""", """
        m = keras.Sequential([keras.Input((4,)), K.Dense(2)])
        m.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        m.fit(toy_features()[0], np.eye(2, dtype=np.float32)[toy_features()[1].astype(int)], verbose=0)"""),
    C("A33", "mc.zeros(2, 3, dtype='int64').requires_grad_()", "torch.zeros(2, 3, dtype=torch.int64).requires_grad_()"),
    C("A34", "mc.zeros(2, 3).sum(axis='0')", "torch.zeros(2, 3).sum(dim='0')"),
    K("A35", "L.MaxPooling2D(2, strides=0)", "K.MaxPooling2D(2, strides=0).strides"),
    K("A36", """
        m = dense_model(); m.compile(mc.optimizers.SGD(lr=0.1), bce())
        m.fit(*toy_features(), validation_split=1.5, verbose=0)""", """
        m = k_dense_model(); m.compile(keras.optimizers.SGD(0.1), k_bce())
        m.fit(*toy_features(), validation_split=1.5, verbose=0)"""),
]

FAMILIES = [("dtypes and promotion", DTYPES), ("special values", SPECIAL_VALUES),
            ("non-contiguous, transposed, negative-stride, broadcast inputs", LAYOUTS),
            ("Python-value protocols", PROTOCOLS), ("reductions and axes", REDUCTIONS), ("indexing", INDEXING),
            ("gradients at edges", GRADIENTS), ("losses at extremes", LOSSES), ("conv / pool shapes", CONV_POOL),
            ("optimizers and schedules", OPTIMIZERS), ("state binding", STATE_BINDING), ("callbacks", CALLBACKS),
            ("metrics", METRICS), ("model mode", MODES), ("save / load round trips", SAVING),
            ("files (each side in a subprocess)", FILES), ("arguments", ARGUMENTS)]
CASES = [case for _, cases in FAMILIES for case in cases]


# ------------------------------------------------------------------------------------------------
# what the snippets see
# ------------------------------------------------------------------------------------------------

class Expected(Exception):
    """A written reference that says: refuse this."""


def refuse(why):
    raise Expected(f"(expected) refuse: {why}")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def flipk(w):
    """A true convolution's kernel as the cross-correlation kernel PyTorch and Keras slide."""
    return np.ascontiguousarray(np.flip(w, axis=tuple(range(2, w.ndim))))


def conv_weights(filters, channels, k, ndim=4, keras=False):
    """The same kernel for both: minicnn's (F, C, KH, KW) true convolution, or Keras' flipped (KH, KW, C, F)."""
    w = rnd(filters, channels, *([k] * (ndim - 2)), seed=1)
    b = rnd(filters, seed=2)
    return [np.transpose(flipk(w), tuple(range(2, ndim)) + (1, 0)), b] if keras else [w, b]


def mc_layer(layer, x, weights=None):
    x = mc.tensor(x)
    layer(x)
    if weights is not None:
        layer.set_weights(weights)
    return layer(x)


def k_layer(layer, x, weights=None):
    import torch
    x = torch.tensor(x)
    layer(x)
    if weights is not None:
        layer.set_weights(weights)
    return layer(x)


def mc_params():
    return [mc.tensor(rnd(3), requires_grad=True)]


def torch_params():
    import torch
    return [torch.tensor(rnd(3), requires_grad=True)]


def mc_steps(make, steps=3):
    """Three steps of make([w]) on sum(w**3 + w): the weights after them."""
    w = mc.tensor(rnd(4), requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        (w * w * w + w).sum().backward()
        opt.step()
        opt.zero_grad()
    return w


def torch_steps(make, steps=3):
    import torch
    w = torch.tensor(rnd(4), requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        (w * w * w + w).sum().backward()
        opt.step()
        opt.zero_grad()
    return w


def one_cycle_lrs(max_lr, total_steps):
    import torch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps)
    lrs = []
    for _ in range(total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    return lrs


def toy_features(seed=0):
    x = rnd(16, 4, seed=seed)
    return x, (x[:, 0] > 0).astype(np.float32)


def toy_images():
    x = (np.random.default_rng(3).random((8, 1, 6, 6)) * 255).astype(np.uint8)
    return x, np.arange(8) % 2


def multi_label_weights():
    return [rnd(4, 3, seed=5), np.zeros(3, np.float32)]


def multi_label_data():
    x = rnd(10, 4, seed=6)
    return x, (rnd(10, 3, seed=7) > 0).astype(np.float32)


def bce():
    return mc.losses.BinaryCrossentropy(from_logits=True)


def sparse_ce():
    return mc.losses.SparseCategoricalCrossentropy(from_logits=True)


def k_bce():
    import keras
    return keras.losses.BinaryCrossentropy(from_logits=True)


def dense_model(units=1):
    return mc.Sequential([mc.layers.Dense(units)], input_shape=(4,))


def k_dense_model(units=1):
    import keras
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])


def dropout_model():
    L = mc.layers
    return mc.Sequential([L.Dense(8), L.Dropout(0.5), L.Dense(1)], input_shape=(4,))


def k_dropout_model():
    import keras
    K = keras.layers
    return keras.Sequential([keras.Input((4,)), K.Dense(8), K.Dropout(0.5), K.Dense(1)])


def bn_model():
    L = mc.layers
    return mc.Sequential([L.Dense(3), L.BatchNormalization(), L.Dense(1)], input_shape=(4,))


def small_cnn():
    L = mc.layers
    return mc.Sequential([L.Conv2D(2, 3, activation="relu"), L.Flatten(), L.Dense(2)], input_shape=(1, 6, 6))


def residual_model():
    L = mc.layers
    inputs = mc.Input(shape=(2, 6, 6))
    h = L.Conv2D(2, 3, padding="same", activation="relu")(inputs)
    h = L.Add()([inputs, h])
    return mc.Model(inputs, L.Dense(2)(L.Flatten()(h)))


def Nested(base, dense, make):
    """A model written as code whose layers sit in `make()` (nested lists, dicts, tuples), all applied."""
    class Net(base):
        def __init__(self):
            super().__init__()
            self.blocks = make()

        def _all(self, value):
            if isinstance(value, dict):
                value = list(value.values())
            if isinstance(value, (list, tuple)):
                return [layer for item in value for layer in self._all(item)]
            return [value]

        def call(self, x):
            return sum(layer(x) for layer in self._all(self.blocks) if layer.units == 2)
    return Net()


def Shared(base, dense):
    """One Dense layer called twice."""
    class Net(base):
        def __init__(self):
            super().__init__()
            self.one = dense(2)

        def call(self, x):
            return self.one(self.one(x))
    return Net()


def changed(before, after):
    """Whether any weight moved."""
    def host(a):
        return a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    return any(not np.allclose(host(a), host(b)) for a, b in zip(before, after))


class _Dummy:
    """What a callback sees of a model: stop_training, the optimizer, weights that name their epoch."""

    def __init__(self, optimizer):
        self.optimizer, self.stop_training, self.weights = optimizer, False, [np.zeros(1)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


def drive(callback, values, lr=0.1, monitor="val_loss"):
    """Feed `values` as the monitored metric, epoch by epoch, as fit would; the weights after epoch e are [e].
    Returns the epochs run, the epoch whose weights the model ends with, and the learning rate after each."""
    is_keras = type(callback).__module__.startswith("keras")
    if is_keras:
        import keras
        optimizer = keras.optimizers.SGD(lr)
        model = _Dummy(optimizer)
        callback.set_model(model)
        callback.set_params({})
    else:
        optimizer = mc.optimizers.SGD(mc_params(), lr=lr)
        model = _Dummy(optimizer)
        callback.model, callback.params = model, {}
    callback.on_train_begin()
    lrs, epochs = [], 0
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        callback.on_epoch_end(epoch, {monitor: value})
        epochs += 1
        lrs.append(float(optimizer.learning_rate) if is_keras else float(optimizer.current_lr()))
        if model.stop_training:
            break
    callback.on_train_end()
    return {"epochs": epochs, "weights_of_epoch": float(model.weights[0][0]), "lr": lrs}


def model_file(path, replace=None, duplicate=None, spec=None, layer_config=None, compile=None):
    """A model file written by hand: a Dense(1) model on 4 features, with one thing changed."""
    import zipfile
    arrays = {"0.kernel": rnd(4, 1), "0.bias": np.zeros(1, np.float32)}
    arrays.update(replace or {})
    spec = spec or {"format": "minicnn-sequential", "version": 1, "input_shape": [4],
                    "layers": [{"class": "Dense", "config": layer_config or {"units": 1, "name": "dense"}}]}
    if compile:
        spec["compile"] = compile
    arrays["__architecture__"] = np.array(json.dumps(spec))
    np.savez(path, **arrays)
    if duplicate:
        with zipfile.ZipFile(path, "a") as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.full((4, 1), 99.0, np.float32))
            archive.writestr(duplicate + ".npy", buffer.getvalue())


def image_tree(root):
    """root/cats and root/dogs with two 8x8 PNGs each."""
    from PIL import Image
    for name in ("cats", "dogs"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(2):
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(os.path.join(root, name, f"{i}.png"))


_MODULES = {}


def namespace(kind, tmp):
    """A fresh namespace for one snippet: the libraries and the helpers above."""
    import copy

    import torch
    ns = {"mc": mc, "F": mc.F, "L": mc.layers, "np": np, "os": os, "copy": copy, "tmp": tmp, "torch": torch,
          "tF": torch.nn.functional, "refuse": refuse}
    ns["tt"] = lambda a, grad=False: torch.tensor(np.asarray(a, dtype=np.float32), requires_grad=grad)
    for helper in (rnd, flipk, conv_weights, mc_layer, k_layer, mc_params, torch_params, mc_steps, torch_steps,
                   one_cycle_lrs, toy_features, toy_images, multi_label_weights, multi_label_data, bce, sparse_ce,
                   k_bce, dense_model, k_dense_model, dropout_model, k_dropout_model, bn_model, small_cnn,
                   residual_model, Nested, Shared, changed, drive, model_file, image_tree):
        ns[helper.__name__] = helper
    if kind == "keras" or "keras" in _MODULES:
        import keras
        _MODULES["keras"] = keras
        ns["keras"], ns["K"] = keras, keras.layers
    return ns


# ------------------------------------------------------------------------------------------------
# running a snippet, and judging the two answers
# ------------------------------------------------------------------------------------------------

class Hang(BaseException):
    """The timer ran out (a BaseException, so no `except Exception` in a library swallows it)."""


class Arr:
    """An array answer (a tensor of either library, a NumPy array): dtype, shape and values."""

    def __init__(self, dtype, values):
        self.dtype, self.values = dtype, values

    def show(self):
        body = np.array2string(self.values, precision=4, separator=", ", threshold=12, edgeitems=3)
        body = " ".join(body.split())
        return f"{self.dtype} {body}" if self.values.ndim < 2 else f"{self.dtype} {self.values.shape} {body}"


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def normalize(value):
    """Answers of both libraries in one form: Arr, Python scalars, strings, lists and dicts of them."""
    import torch
    if isinstance(value, mc.Tensor):
        return Arr(dtype_name(value.dtype), value.numpy())
    if isinstance(value, torch.Tensor):
        return Arr(dtype_name(value.dtype), value.detach().numpy())
    if isinstance(value, np.ndarray):
        return Arr(dtype_name(value.dtype), value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.dtype, torch.dtype)):
        return f"dtype {dtype_name(value)}"
    if isinstance(value, torch.Size):
        return [int(n) for n in value]
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f"<{type(value).__module__.split('.')[0]}.{type(value).__name__} object>"


def show(value):
    if isinstance(value, Arr):
        return value.show()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def agree(a, b, rtol, atol):
    if isinstance(a, Arr) and isinstance(b, Arr):
        if a.dtype != b.dtype or a.values.shape != b.values.shape:
            return False
        if a.values.dtype.kind in "fc" or b.values.dtype.kind in "fc":
            return bool(np.allclose(a.values.astype(np.float64), b.values.astype(np.float64), rtol=rtol, atol=atol,
                                    equal_nan=True))
        return bool(np.array_equal(a.values, b.values))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(agree(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(agree(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    return type(a) is type(b) and a == b


def error_class(error):
    """'clear' for a `raise` of minicnn's own or Python's own error at the snippet's line (an unknown
    keyword, a missing operator or attribute), 'raw' for anything from deeper inside."""
    if isinstance(error, Expected):
        return "clear"
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    if last is None or last.filename == "<case>":
        return "clear"
    if os.path.abspath(last.filename).startswith(MINICNN_DIR + os.sep):
        return "clear" if (last.line or "").lstrip().startswith("raise") else "raw"
    if os.path.abspath(last.filename) == os.path.abspath(__file__):
        return "harness"
    return "raw"


def where(error):
    """The innermost frame, as file:line (for raw errors)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    name = (os.path.relpath(last.filename, os.path.dirname(MINICNN_DIR)) if last.filename.startswith("/")
            else last.filename)
    return f"{name}:{last.lineno}"


def _on_alarm(signum, frame):
    raise Hang()


def execute(source, kind, timeout=TIMEOUT):
    """Run one snippet; {"status": "value"|"error"|"hang", ...}."""
    import torch
    tmp = tempfile.mkdtemp(prefix="sweep-")
    mc.manual_seed(0)
    torch.manual_seed(0)
    if kind == "keras":
        import keras
        keras.utils.set_random_seed(0)
        mc.manual_seed(0)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            ns = namespace(kind, tmp)
            tree = ast.parse(source, "<case>")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<case>", "exec"), ns)
            value = eval(compile(ast.Expression(last.value), "<case>", "eval"), ns) if last else None
            result = {"status": "value", "value": normalize(value)}
    except Hang:
        result = {"status": "hang"}
    except Exception as error:   # the answer is the error
        result = {"status": "error", "type": type(error).__name__, "message": str(error).strip(),
                  "class": error_class(error), "where": where(error)}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def to_json(value):
    if isinstance(value, Arr):
        return {"__arr__": value.dtype, "shape": list(value.values.shape),
                "values": value.values.astype(object if value.values.dtype.kind in "USO"
                                              else value.values.dtype).tolist()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": repr(value)}
    return value


def from_json(value):
    if isinstance(value, dict) and "__arr__" in value:
        return Arr(value["__arr__"], np.array(value["values"], dtype=None).reshape(value["shape"]))
    if isinstance(value, dict) and "__float__" in value:
        return float(value["__float__"])
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    return value


def execute_in_subprocess(case, side):
    """One side of a file case in a child process, killed after SUB_TIMEOUT seconds."""
    command = [sys.executable, os.path.abspath(__file__), "--one", case.id, side]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=SUB_TIMEOUT,
                              env={**os.environ, "KERAS_BACKEND": "torch"})
    except subprocess.TimeoutExpired:
        return {"status": "hang"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"status": "error", "type": "ChildFailed", "message": done.stderr[-300:], "class": "harness",
                "where": ""}
    result = json.loads(lines[-1])
    if result["status"] == "value":
        result["value"] = from_json(result["value"])
    return result


def run_case(case):
    run = (lambda source, side: execute_in_subprocess(case, side)) if case.sub else \
        (lambda source, side: execute(source, case.kind))
    mine, ref = run(case.mine, "mine"), run(case.ref, "ref")
    return mine, ref, verdict(case, mine, ref)


def verdict(case, mine, ref):
    if mine["status"] == "hang":
        return "hang"
    if mine["status"] == "error":
        if mine["class"] == "harness":
            return "harness error"
        if mine["class"] == "raw":
            return "raw error"
        return "same" if ref["status"] != "value" else "refused"
    if ref["status"] != "value":
        return "silent wrong"
    return "same" if agree(mine["value"], ref["value"], case.rtol, case.atol) else "silent wrong"


def describe(result, limit=240):
    if result["status"] == "hang":
        return "no answer (timed out)"
    if result["status"] == "error":
        text = f"{result['type']}: {result['message']}" if result["type"] != "Expected" else result["message"]
        text = " ".join(text.split())
        text = text if len(text) <= limit else text[:limit] + "..."
        if result["class"] == "raw" and result.get("where"):
            text += f" [at {result['where']}]"
        return text
    text = show(result["value"])
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------

VERDICTS = ["same", "refused", "raw error", "silent wrong", "hang", "harness error"]
REFERENCES = {"torch": "PyTorch", "keras": "Keras", "expected": "expected"}


def cell(text):
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "&#124;")
    return text.replace("\n", "<br>")


def write_report(rows, seconds, path):
    counts = {v: sum(1 for *_, verdict in rows if verdict == v) for v in VERDICTS}
    import keras
    import torch
    lines = [
        "# The sweep (issue 17)",
        "",
        "Small cases tried as a new user (and a hostile one) would, each on minicnn and on its reference",
        f"beside it: PyTorch {torch.__version__} for tensors, ops, autograd and optimizers, Keras {keras.__version__} "
        "on PyTorch for layers, models, callbacks and losses, or a written expectation where neither has the "
        "feature. Reproduce with",
        "",
        f"    {COMMAND}",
        "",
        f"({len(rows)} cases in {seconds:.0f} s; `--only ID,ID -v` reruns some and prints them.) Each case runs under "
        f"a {TIMEOUT} s timer; file cases run each side in a subprocess killed after {SUB_TIMEOUT} s.",
        "",
        "Verdicts: **same** (equal within float32 tolerance, dtype and shape included, or both refuse with a clear "
        "error); **refused** (minicnn raises a clear error, a `raise` of its own or Python's own error at the "
        "user's line, where the reference answers); **raw error** (minicnn fails inside itself: NumPy, zipfile, json, "
        "a KeyError or TypeError from a line that is not a `raise`; the file and line follow the message); "
        "**silent wrong** (minicnn answers and the answer differs from the reference's, or the reference refuses); "
        "**hang** (no answer within the timeout).",
        "",
        "| verdict | cases |",
        "| --- | --- |",
    ]
    lines += [f"| {v} | {counts[v]} |" for v in VERDICTS if counts[v] or v != "harness error"]
    by_id = {case.id: case for case in CASES}
    for family, cases in FAMILIES:
        ids = {case.id for case in cases}
        family_rows = [row for row in rows if row[0] in ids]
        if not family_rows:
            continue
        lines += ["", f"## {family}", "", "| id | code (minicnn) | minicnn | reference | verdict |",
                  "| --- | --- | --- | --- | --- |"]
        for id, mine, ref, verdict in family_rows:
            case = by_id[id]
            code = f"<code>{cell(case.mine)}</code>"
            reference = f"{REFERENCES[case.kind]}: {describe(ref)}"
            shown = f"**{verdict}**" if verdict not in ("same", "refused") else verdict
            lines.append(f"| {id} | {code} | {cell(describe(mine))} | {cell(reference)} | {shown} |")
    lines += ["", "The reference code of each case is in `benchmarks/sweep.py`, beside minicnn's.", ""]
    with open(path, "w") as file:
        file.write("\n".join(lines))
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated case ids: run these, print them, write nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case as it runs")
    parser.add_argument("--one", nargs=2, metavar=("ID", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:                    # a file case's side, in the child process
        case = {c.id: c for c in CASES}[args.one[0]]
        result = execute(case.mine if args.one[1] == "mine" else case.ref, case.kind, timeout=SUB_TIMEOUT - 3)
        if result["status"] == "value":
            result["value"] = to_json(result["value"])
        print(json.dumps(result))
        return
    import torch
    torch.set_num_threads(1)
    mc.set_num_threads(1)
    chosen = CASES if not args.only else [c for c in CASES if c.id in set(args.only.split(","))]
    start, rows = time.perf_counter(), []
    for case in chosen:
        mine, ref, verdict = run_case(case)
        rows.append((case.id, mine, ref, verdict))
        if args.verbose or args.only or verdict not in ("same", "refused"):
            print(f"{case.id:4} {verdict:13} mc: {describe(mine, 160)}\n{'':18} ref: {describe(ref, 160)}", flush=True)
    seconds = time.perf_counter() - start
    if args.only:
        return
    counts = write_report(rows, seconds, OUTPUT)
    print(f"{len(rows)} cases in {seconds:.0f} s: " + ", ".join(f"{v} {n}" for v, n in counts.items() if n))
    print(f"wrote {os.path.relpath(OUTPUT)}")


if __name__ == "__main__":
    main()
