"""mc.load_model: a model file back into the Sequential or functional Model that wrote it."""

from ..io import saving
from ..layers import LAYER_TYPES
from ..layers.symbolic import Input
from .model import Model
from .sequential import Sequential


def load_model(path):
    """Rebuild a model saved by model.save(path), on the CPU."""
    spec, layers, weights, optimizer_state = saving.read_model(path, LAYER_TYPES)
    with saving.damaged_if_wrong(path, "its architecture does not describe a model"):
        if spec["format"] == saving.FUNCTIONAL_FORMAT:
            model = _functional(spec, layers)
        else:
            model = Sequential(layers, input_shape=spec["input_shape"], name=spec.get("name"))
    saving.set_weight_arrays(model, weights, path)
    model.class_names = spec.get("class_names")
    if "compile" in spec:
        saving.compile_as_saved(model, spec["compile"], optimizer_state, path)
    return model.eval()         # a loaded model is for predictions: no dropout, BatchNorm's moving statistics


def _functional(spec, layers):
    """mc.Model(inputs, outputs) again: the saved layer calls replayed on a new Input, in order."""
    by_name = {layer.name: layer for layer in layers}
    inputs, made = Input(spec["input_shape"]), []
    for node in spec["nodes"]:
        sources = [inputs if i == -1 else made[i] for i in node["inputs"]]
        made.append(by_name[node["layer"]](sources if node["as_list"] else sources[0]))
    return Model(inputs, made[-1], name=spec.get("name"))
