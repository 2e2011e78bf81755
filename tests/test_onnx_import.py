"""mc.onnx.load against the onnx package's own node tests (onnx.backend.test.case.node), for the
operators minicnn reads: each test's model, its weight inputs made initializers, is either loaded
and gives the test's expected outputs, or refused by name; never a wrong number. And a model
exported by minicnn comes back as a model that predicts the same and trains."""

import numpy as np
import pytest

import minicnn as mc

onnx = pytest.importorskip("onnx")
node_cases = pytest.importorskip("onnx.backend.test.case.node")
L = mc.layers
OPERATORS = ["Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax",
             "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Identity", "Dropout",
             "Concat", "Add", "Mul", "Reshape", "Clip", "HardSigmoid", "HardSwish"]
MUST_LOAD = {"Conv": 6, "Gemm": 8, "MatMul": 1, "BatchNormalization": 2, "Relu": 1, "LeakyRelu": 2, "Sigmoid": 1,
             "Tanh": 1, "Softmax": 7, "MaxPool": 7, "AveragePool": 7, "GlobalAveragePool": 2, "GlobalMaxPool": 2,
             "Flatten": 2, "Clip": 1, "HardSigmoid": 2, "HardSwish": 1}
# (how many of onnx 1.23's node tests minicnn reads; the rest it refuses by name)


def with_weights_as_initializers(case):
    """The case's model with every graph input after the first made an initializer of its test value."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, outputs = case.data_sets[0]
    first, *rest = list(model.graph.input)
    for value_info, array in zip(rest, inputs[1:]):
        model.graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(array), value_info.name))
    del model.graph.input[1:]
    return model, inputs[0], outputs


_ALL_CASES = []


def cases_of(operator):
    """The node tests of one operator: single-node models (not the "expanded" forms in other operators).
    collect_testcases() keeps what its first call found, so it is asked once, for every operator."""
    if not _ALL_CASES:
        _ALL_CASES.extend(node_cases.collect_testcases(None))
    return [case for case in _ALL_CASES if len(case.model.graph.node) == 1
            and case.model.graph.node[0].op_type == operator]


@pytest.mark.parametrize("operator", OPERATORS)
def test_the_onnx_node_tests_load_and_agree_or_are_refused_by_name(tmp_path, operator):
    loaded = 0
    for case in cases_of(operator):
        if not case.data_sets:
            continue
        model, x, expected = with_weights_as_initializers(case)
        if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim >= 2):
            continue
        onnx.save(model, tmp_path / "case.onnx")
        try:
            mine = mc.onnx.load(tmp_path / "case.onnx")
        except ValueError as error:
            assert str(error).startswith("mc.onnx.load:"), (case.name, error)
            continue
        got = mine.predict(x, batch_size=len(x))
        got = got if isinstance(got, list) else [got]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, np.asarray(e).reshape(g.shape), rtol=1e-4, atol=1e-5, err_msg=case.name)
        loaded += 1
    assert loaded >= MUST_LOAD.get(operator, 0), f"{operator}: {loaded} of its node tests loaded"


def test_a_model_exported_by_minicnn_comes_back_predicting_the_same_and_trains(tmp_path):
    inputs = mc.Input(shape=(3, 12, 12))
    h = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = L.BatchNormalization()(L.MaxPooling2D(2)(h))
    h = L.Add()([h, L.Conv2D(4, 3, padding="same")(h)])
    h = L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)(h)
    outputs = L.Dense(3, activation="softmax")(L.Dense(5, activation="tanh")(L.GlobalAveragePooling2D()(h)))
    model = mc.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(8, 3, 12, 12)).astype(np.float32)
    back = mc.onnx.load(mc.onnx.export(model, tmp_path / "m.onnx"))
    np.testing.assert_allclose(back.predict(x), model.predict(x), rtol=1e-5, atol=1e-6)
    assert back.count_params() == model.count_params()
    back.compile("adam", mc.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    history = back.fit(x, np.arange(8) % 3, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # mc.viz on the imported model: its filters, feature maps, saliency and Grad-CAM, as on minicnn's own
    pytest.importorskip("matplotlib")
    mc.viz.filters(back, path=tmp_path / "filters.png")
    mc.viz.feature_maps(back, x[0], path=tmp_path / "maps.png")
    assert mc.viz.saliency(back, x[0]).shape == (12, 12)
    heat = mc.viz.grad_cam(back, x[0])
    assert heat.shape == (12, 12) and np.isfinite(heat).all()
    assert (tmp_path / "filters.png").stat().st_size > 0 and (tmp_path / "maps.png").stat().st_size > 0


def test_what_minicnn_cannot_compute_is_refused_naming_the_operator_and_node(tmp_path):
    helper = onnx.helper
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2, 4, 4])
    graph = helper.make_graph([helper.make_node("Elu", ["x"], ["y"], name="smooth")], "g", [x], [y])
    onnx.save(helper.make_model(graph), tmp_path / "elu.onnx")
    with pytest.raises(ValueError, match="operator Elu \\(node 'smooth'\\) has no minicnn form"):
        mc.onnx.load(tmp_path / "elu.onnx")
    weight = onnx.numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
    conv = helper.make_node("Conv", ["x", "w"], ["y"], name="wide", dilations=[2, 2], pads=[2, 2, 2, 2])
    onnx.save(helper.make_model(helper.make_graph([conv], "g", [x], [y], [weight])), tmp_path / "dilated.onnx")
    with pytest.raises(ValueError, match="Conv \\(node 'wide'\\): dilations \\[2, 2\\]"):
        mc.onnx.load(tmp_path / "dilated.onnx")


def test_the_channels_last_forms_minicnn_lacks_are_refused_naming_the_node(tmp_path):
    """Keras' channels-last files are read (tests/conformance/test_keras_onnx.py); other transposes, and a
    channels-last flatten that no Dense reads, are refused by name."""
    helper = onnx.helper
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 4, 2])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2], name="to_nchw"),
             helper.make_node("Transpose", ["t"], ["y"], perm=[0, 1, 3, 2], name="swap")]
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y])), tmp_path / "swap.onnx")
    with pytest.raises(ValueError, match=r"Transpose \(node 'swap'\): perm \[0, 1, 3, 2\]"):
        mc.onnx.load(tmp_path / "swap.onnx")
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2], name="to_nchw"),
             helper.make_node("Relu", ["t"], ["r"], name="relu"),
             helper.make_node("Transpose", ["r"], ["u"], perm=[0, 2, 3, 1], name="to_nhwc"),
             helper.make_node("Flatten", ["u"], ["y"], name="flat")]
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y])), tmp_path / "flat.onnx")
    with pytest.raises(ValueError, match="output 'y' is flattened channels-last"):
        mc.onnx.load(tmp_path / "flat.onnx")
