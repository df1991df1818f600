"""aprende train on images: the model auto picks, the files an image run writes, clear errors."""

import json

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")
pytest.importorskip("matplotlib")

from aprende.cli import main  # noqa: E402


def test_a_cnn_on_the_digits_writes_filters_and_feature_maps(tmp_path, capsys):
    folder = tmp_path / "cnn"
    args = ["train", "--dataset", "digits", "--model", "cnn", "--epochs", "2", "--out", str(folder)]
    assert main(args) == 0
    assert "Conv2d" in (folder / "model.txt").read_text()
    plots = {p.name for p in (folder / "plots").iterdir()}
    assert {"filters.png", "feature_maps.png", "confusion_matrix.png"} <= plots
    scores = json.loads((folder / "metrics.json").read_text())
    assert scores["metric"] == "accuracy" and scores["value"] > 0.5
    capsys.readouterr()
    assert main(["evaluate", str(folder)]) == 0
    assert f"test_accuracy: {scores['value']:.4f}" in capsys.readouterr().out
    _predict_digit_images(folder, tmp_path)


def _predict_digit_images(folder, tmp_path):
    """The same digits as an .npy array and as a folder of PNGs: the same predictions."""
    import csv

    import numpy as np
    from matplotlib import image

    from aprende.datasets import load_digits_images

    images, labels, _ = load_digits_images()
    images, labels = images[:40], labels[:40]
    np.save(tmp_path / "digits.npy", images * 16)  # the run's units: the digits' 0-16 ink
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    for i, picture in enumerate(images):
        image.imsave(pngs / f"{i:03d}.png", picture[0], cmap="gray", vmin=0, vmax=1)
    predicted = {}
    for source in ("digits.npy", "pngs"):
        out = tmp_path / f"{source}.csv"
        assert main(["predict", str(folder), str(tmp_path / source), "-o", str(out)]) == 0
        with out.open() as handle:
            predicted[source] = [row["prediction"] for row in csv.DictReader(handle)]
    assert predicted["digits.npy"] == predicted["pngs"]  # PNG rounding to 8 bits changes nothing
    assert np.mean(np.array(predicted["pngs"], dtype=int) == labels) > 0.5
    np.save(tmp_path / "wrong.npy", images[:, :, :4])
    assert main(["predict", str(folder), str(tmp_path / "wrong.npy")]) == 2


def test_auto_picks_a_unet_for_reconstruction_and_scores_it_by_psnr(tmp_path, capsys):
    folder = tmp_path / "unet"
    args = ["train", "--dataset", "digit_reconstruction", "--epochs", "1", "--channels", "4"]
    assert main([*args, "--depth", "1", "--out", str(folder)]) == 0
    assert "UNet" in (folder / "model.txt").read_text()
    scores = json.loads((folder / "metrics.json").read_text())
    assert scores["metric"] == "psnr" and scores["average"]["mse"] > 0
    assert "reconstructions.png" in {p.name for p in (folder / "plots").iterdir()}
    assert "test_psnr:" in capsys.readouterr().out
    import numpy as np

    from aprende.datasets import make_reconstruction_canvases

    noisy, _, _ = make_reconstruction_canvases(n_samples=3)
    np.save(tmp_path / "noisy.npy", noisy)
    out = tmp_path / "clean.npy"
    assert main(["predict", str(folder), str(tmp_path / "noisy.npy"), "-o", str(out)]) == 0
    assert np.load(out).shape == (3, *noisy.shape[1:])
    assert main(["predict", str(folder), str(tmp_path / "noisy.npy"), "-o", "x.csv"]) == 2


def test_a_unet_needs_images_and_sides_divisible_by_two_to_the_depth(tmp_path, capsys):
    assert (
        main(["train", "--dataset", "iris", "--model", "unet", "--out", str(tmp_path / "a")]) == 2
    )
    assert "needs images, and dataset 'iris' is not one" in capsys.readouterr().err
    args = ["train", "--dataset", "digits", "--model", "unet", "--depth", "4"]
    assert main([*args, "--out", str(tmp_path / "b")]) == 2
    assert "multiples of 16" in capsys.readouterr().err


def test_the_tabular_digits_stay_an_mlp_under_auto(tmp_path):
    from aprende.cli.pipeline import load_data, model_kind
    from aprende.config import RunConfig

    config = RunConfig(dataset="digits")
    assert model_kind(config, load_data(config).spec) == "mlp"
    config = RunConfig(dataset="digit_canvases")
    spec = load_data(config).spec
    assert model_kind(config, spec) == "unet" and spec.input_shape == [1, 32, 32]


def test_mnist_from_the_users_idx_files(tmp_path, capsys):
    import numpy as np
    from test_image_datasets import write_idx_folder

    idx = tmp_path / "idx"
    idx.mkdir()
    arrays = write_idx_folder(idx, n_train=150, n_test=50)
    # labels that leave every class in every split (the helper's labels are random)
    labels = np.arange(200) % 10
    from test_image_datasets import write_idx

    write_idx(idx / "train-labels-idx1-ubyte.gz", labels[:150])
    write_idx(idx / "t10k-labels-idx1-ubyte", labels[150:])
    assert len(arrays) == 4
    folder = tmp_path / "run"
    args = ["train", "--dataset", "mnist", "--idx-dir", str(idx), "--model", "cnn"]
    assert main([*args, "--epochs", "1", "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "140 training / 30 validation / 30 test" in out  # 150 + 50 images, split
    assert "Conv2d" in (folder / "model.txt").read_text()
    assert main(["train", "--dataset", "mnist", "--out", str(tmp_path / "no")]) == 2
    assert "give --idx-dir FOLDER" in capsys.readouterr().err
    assert main(["train", "--dataset", "iris", "--idx-dir", str(idx)]) == 2
    assert "idx_dir: applies to --dataset mnist or fashion_mnist" in capsys.readouterr().err
