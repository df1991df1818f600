"""Damaged and crafted checkpoint files: each one a CheckpointError naming what is wrong,
never another exception, never a silent load; the files' confinement, binding and modes."""

import json
import os
import random
import shutil
import struct
import warnings

import numpy as np
import pytest

from aprende.training import CheckpointError, load_checkpoint, load_state
from aprende.training.checkpoint import best_checkpoint, latest_checkpoint, reconcile
from aprende.training.checkpoint_files import encode_record
from tests.checkpoint_helpers import blobs, tiny_run, weights

pytest.importorskip("safetensors")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch run's checkpoint folder, copied afresh by each test that damages it."""
    folder = tmp_path_factory.mktemp("trained") / "ckpt"
    model, _, _ = tiny_run(folder, epochs=2)
    return folder, weights(model)


def _copy(trained, tmp_path):
    """A copy of the trained folder and its newest record (epoch-0002: names count from 1)."""
    target = tmp_path / "ckpt"
    shutil.copytree(trained[0], target)
    return target, target / "epoch-0002.json"


def _resume(folder):
    """Everything a resume restores: model, optimizer, schedule, callbacks, generators."""
    return tiny_run(folder, epochs=2)


def _craft(path, change):
    """Rewrite a record with ``change(record)`` applied and sealed again, as a forger would."""
    record = json.loads(path.read_text())
    change(record)
    path.write_bytes(encode_record(record))


# ---- one crafted field at a time: the message names it ----------------------------------------


def _set_tensors(name):
    return lambda record: record.__setitem__("tensors", name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("sha256"), "key 'sha256' must be str, got missing"),
        (lambda r: r.pop("tensors"), "key 'tensors' must be str, got missing"),
        (lambda r: r.__setitem__("version", 1), "format version 1"),
        (lambda r: r.__setitem__("version", True), "format version True"),
        (lambda r: r.__setitem__("epoch", -1), "'epoch' must be an integer >= 0"),
        (lambda r: r.__setitem__("epoch", "1"), "'epoch' must be an integer >= 0"),
        (lambda r: r.__setitem__("best_epoch", 7), "'best_epoch' must be None or an epoch"),
        (_set_tensors("../epoch-0002.safetensors"), "names arrays file"),
        (_set_tensors("/dev/zero"), "names arrays file"),
        (_set_tensors("sub/epoch-0002.safetensors"), "names arrays file"),
        (
            lambda r: r["state"]["model"].__setitem__("0.weight", {"__array__": "nope"}),
            "names array 'nope', which the file lacks",
        ),
        (lambda r: r["state"].pop("rng"), "its state has no 'rng'"),
    ],
)
def test_a_crafted_record_is_a_clear_error(trained, tmp_path, change, message):
    folder, record = _copy(trained, tmp_path)
    _craft(record, change)
    with pytest.raises(CheckpointError, match=message):
        _resume(folder)


def test_an_edited_record_is_detected_by_its_seal(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    record.write_text(record.read_text().replace('"lr": 0.', '"lr": 1.', 1))
    with pytest.raises(CheckpointError, match="damaged: its content does not match"):
        load_state(record)


def test_deeply_nested_json_is_a_clear_error(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    record.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CheckpointError, match="nested too deeply"):
        load_state(record)


def test_arrays_file_that_is_a_symlink_out_of_the_folder_is_refused(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    arrays = folder / "epoch-0002.safetensors"
    outside = tmp_path / "elsewhere.safetensors"
    arrays.rename(outside)
    arrays.symlink_to(outside)
    with pytest.raises(CheckpointError, match="is a symlink"):
        _resume(folder)


def test_another_runs_arrays_with_their_digest_do_not_load(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    other = tmp_path / "other"
    tiny_run(other, epochs=2, patience=1)  # another run: its own id
    shutil.copy(other / "epoch-0002.safetensors", folder / "epoch-0002.safetensors")
    theirs = json.loads((other / "epoch-0002.json").read_text())
    _craft(record, lambda r: r.update(sha256=theirs["sha256"], size=theirs["size"]))
    with pytest.raises(CheckpointError, match="belongs to another run or epoch"):
        _resume(folder)


def _shrink_array(folder, record, prefix, contains):
    """Give one saved array the shape (1,) (it would broadcast silently), resealing the
    record with the new file's digest, as a forger would."""
    import hashlib

    from safetensors.numpy import load, save

    path = folder / record.name.replace(".json", ".safetensors")
    payload = path.read_bytes()
    (length,) = struct.unpack("<Q", payload[:8])
    metadata = json.loads(payload[8 : 8 + length])["__metadata__"]
    arrays = load(payload)
    key = next(k for k in arrays if k.startswith(prefix) and contains in k)
    arrays[key] = arrays[key].reshape(-1)[:1].copy()
    crafted = save(arrays, metadata=metadata)
    path.write_bytes(crafted)
    digest = hashlib.sha256(crafted).hexdigest()
    _craft(record, lambda r: r.update(sha256=digest, size=len(crafted)))


def test_an_optimizer_moment_of_the_wrong_shape_is_refused(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    _shrink_array(folder, record, "optimizer.state.", "exp_avg")
    with pytest.raises(CheckpointError, match=r"optimizer state: state 'exp_avg"):
        _resume(folder)


def test_a_scaler_array_of_the_wrong_shape_is_refused(tmp_path):
    from aprende.data import StandardScaler

    x, _ = blobs()
    scaler = StandardScaler().fit(x)
    tiny_run(tmp_path, epochs=1, preprocessing={"inputs": scaler})
    record = latest_checkpoint(tmp_path)
    _shrink_array(tmp_path, record, "preprocessing.inputs.", "mean")
    with pytest.raises(CheckpointError, match=r"preprocessing 'inputs'.*mean.*shape \(4,\)"):
        tiny_run(tmp_path, epochs=2, preprocessing={"inputs": StandardScaler().fit(x)})


def test_garbage_rng_state_is_a_clear_error(trained, tmp_path):
    folder, record = _copy(trained, tmp_path)
    _craft(record, lambda r: r["state"]["rng"].__setitem__("global", {"state": 3}))
    with pytest.raises(CheckpointError, match="random generator state"):
        _resume(folder)


def test_nan_weights_load_with_a_warning_and_bool_weights_are_refused(trained, tmp_path):
    from aprende import nn, optim
    from aprende.training import save_checkpoint

    model = nn.Linear(2, 1)
    with np.errstate(invalid="ignore"):
        model.weight.data[...] = np.nan
    save_checkpoint(model, optim.SGD(model.parameters(), lr=0.1), 0, tmp_path / "nan")
    with pytest.warns(RuntimeWarning, match=r"NaN or infinite values in \['weight'\]"):
        load_checkpoint(nn.Linear(2, 1), None, tmp_path / "nan")

    class Flags(nn.Module):
        def state_dict(self, *args, **kwargs):
            return {"weight": np.ones((1, 2), dtype=bool), "bias": np.ones(1, dtype=bool)}

    save_checkpoint(Flags(), None, 0, tmp_path / "bool")
    with pytest.raises(CheckpointError, match="weight 'weight' is bool"):
        load_checkpoint(nn.Linear(2, 1), None, tmp_path / "bool")


# ---- the folder: best, orphans, modes -----------------------------------------------------------


def test_a_corrupt_best_copy_is_rebuilt_from_the_records(trained, tmp_path):
    folder, _ = _copy(trained, tmp_path)
    (folder / "best.json").write_text('{"torn')
    assert best_checkpoint(folder).name.startswith("epoch-")  # the records decide, not the copy
    model, _, history = tiny_run(folder, epochs=3)  # resumes, and every later prune works
    assert len(history) == 3
    assert json.loads((folder / "best.json").read_text())["epoch"] == history.best()[0]


def test_temporary_files_of_interrupted_writes_are_removed_on_resume(trained, tmp_path):
    folder, _ = _copy(trained, tmp_path)
    orphan = folder / ".epoch-0002.safetensors.abc123.tmp"
    orphan.write_bytes(b"half")
    assert reconcile(folder) == latest_checkpoint(folder)
    assert not orphan.exists()


def test_checkpoints_get_the_mode_of_other_files_honouring_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        tiny_run(tmp_path / "ckpt", epochs=1, csv=tmp_path / "history.csv")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    plain = (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert plain == 0o644
    for path in [tmp_path / "history.csv", *(tmp_path / "ckpt").glob("epoch-*")]:
        assert path.stat().st_mode & 0o777 == plain, path


# ---- fuzz: random damage, only CheckpointError or an identical load --------------------------


def _mutations(rng: random.Random, record: dict):
    """Yield (description, function(folder)) damaging a copy of the folder."""

    def leaves(node, path=()):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from leaves(v, (*path, i))
        yield path

    paths = [p for p in leaves(record) if p]
    wrong = ["x", 1.5, -3, True, None, [], {}, [1, [2]], {"__array__": 7}, {"__dict__": 1}]
    names = ["", ".", "..", "/etc/passwd", "a/b", "epoch-0000.safetensors", "x" * 300]

    def truncate(name):
        def damage(folder):
            data = (folder / name).read_bytes()
            (folder / name).write_bytes(data[: rng.randrange(len(data))])

        return damage

    def flip(name):
        def damage(folder):
            data = bytearray((folder / name).read_bytes())
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            (folder / name).write_bytes(bytes(data))

        return damage

    def crafted(path, value):
        def change(r):
            node = r
            for key in path[:-1]:
                node = node[key]
            if value is _DROP:
                del node[path[-1]]
            else:
                node[path[-1]] = value

        return lambda folder: _craft(folder / "epoch-0002.json", change)

    for _ in range(150):
        kind = rng.choice(["truncate", "flip", "drop", "type", "name"])
        name = rng.choice(["epoch-0002.json", "epoch-0002.safetensors"])
        if kind == "truncate":
            yield f"truncate {name}", truncate(name)
        elif kind == "flip":
            yield f"flip a bit of {name}", flip(name)
        elif kind == "drop":
            path = rng.choice(paths)
            yield f"drop {path}", crafted(path, _DROP)
        elif kind == "type":
            path, value = rng.choice(paths), rng.choice(wrong)
            yield f"{path} = {value!r}", crafted(path, value)
        else:
            yield "tensors name", crafted(("tensors",), rng.choice(names))


_DROP = object()


def test_fuzzed_checkpoints_fail_only_with_checkpoint_error(trained, tmp_path):
    folder, reference_weights = trained
    record = json.loads((folder / "epoch-0002.json").read_text())
    rng = random.Random(0)
    outcomes = {"refused": 0, "fell back": 0, "loaded": 0}
    for number, (what, damage) in enumerate(_mutations(rng, record)):
        copy = tmp_path / f"case-{number}"
        shutil.copytree(folder, copy)
        damage(copy)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model, _, _ = _resume(copy)
        except CheckpointError:
            outcomes["refused"] += 1
            continue
        except Exception as error:  # noqa: BLE001 - the point: nothing else may escape
            raise AssertionError(f"{what}: {type(error).__name__}: {error}") from error
        # Damage on disk sets the newest aside and retrains its epoch from the one before:
        # the same weights as the run that was never damaged.
        outcomes["fell back" if list(copy.glob("*.corrupt")) else "loaded"] += 1
        loaded = weights(model)
        for key, value in reference_weights.items():
            np.testing.assert_array_equal(loaded[key], value, err_msg=what)
    assert outcomes["refused"] >= 40 and outcomes["fell back"] >= 40, outcomes
    assert outcomes["refused"] + outcomes["fell back"] >= 120, outcomes
