"""Ready-made networks: the multilayer perceptron, a LeNet-style CNN, and a U-Net.

``MLP`` is built in ``aprende.nn`` (it needs nothing but fully connected layers) and is
re-exported here beside the convolutional networks.
"""

from aprende.models.lenet import LeNet
from aprende.models.unet import UNet
from aprende.nn.mlp import MLP

__all__ = ["MLP", "LeNet", "UNet"]
