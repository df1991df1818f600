"""Getting data to a model: datasets, loaders, samplers, splits, preprocessing, augmentation.

PyTorch's names for loading (``Dataset``, ``TensorDataset``, ``DataLoader``, ``random_split``,
samplers), scikit-learn's for preprocessing (``StandardScaler``, ``MinMaxScaler``, ...)::

    from aprende.data import DataLoader, TensorDataset, StandardScaler, train_val_test_split

    X_train, y_train, X_val, y_val, X_test, y_test = train_val_test_split(X, y, stratify=y)
    scaler = StandardScaler().fit(X_train)          # fitted on the training split only
    train = TensorDataset(scaler.transform(X_train), y_train)
    for batch_x, batch_y in DataLoader(train, batch_size=32, shuffle=True, generator=0):
        ...

``DataLoader(batch_size=1 / B / None)`` gives the slides' instantaneous, mini-batch and global
(full-batch) gradient descent; note that ``batch_size=None`` means the whole set as one batch,
where PyTorch means "no batching".
"""

from aprende.data.collate import default_collate
from aprende.data.dataloader import DataLoader
from aprende.data.dataset import ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset
from aprende.data.impute import SimpleImputer
from aprende.data.preprocessing import (
    LabelEncoder,
    MinMaxScaler,
    NotFittedError,
    OneHotEncoder,
    PCAWhitening,
    StandardScaler,
    one_hot,
)
from aprende.data.sampler import (
    BatchSampler,
    HardExampleSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    WeightedRandomSampler,
)
from aprende.data.split import random_split, train_val_test_split
from aprende.data.table_encoder import TableEncoder
from aprende.data.transforms import Compose, GaussianNoise, RandomRotation, RandomShift

__all__ = [
    "ArrayDataset",
    "BatchSampler",
    "Compose",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "GaussianNoise",
    "HardExampleSampler",
    "LabelEncoder",
    "MinMaxScaler",
    "NotFittedError",
    "OneHotEncoder",
    "PCAWhitening",
    "RandomRotation",
    "RandomSampler",
    "RandomShift",
    "Sampler",
    "SequentialSampler",
    "SimpleImputer",
    "StandardScaler",
    "Subset",
    "TableEncoder",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "one_hot",
    "random_split",
    "train_val_test_split",
]
