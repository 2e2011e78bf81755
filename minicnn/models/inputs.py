"""What a model checks of the images it is given before any layer sees them."""

from ..layers.conv import channels_last_error


def check_model_input(input_shape):
    """A batch of images entering a model: a last axis of 1, 3 or 4 behind a larger channel axis
    is an image stored channels-last ((N, 32, 48, 3), (N, 24, 40, 1)), whatever its shape."""
    if len(input_shape) == 4 and input_shape[3] in (1, 3, 4) and input_shape[1] > input_shape[3]:
        raise channels_last_error("the model", input_shape)
