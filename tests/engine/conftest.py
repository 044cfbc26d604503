import pytest

from engine.annotations.folder import load_folder
from engine.data.synth import generate_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """8 generated 96x96 images, 2 classes, VOC: (folder, LoadedFolder)."""
    folder = tmp_path_factory.mktemp("tiny")
    generate_dataset(folder, num_images=8, num_classes=2, seed=1, fmt="voc", image_size=(96, 96))
    return folder, load_folder(folder)
