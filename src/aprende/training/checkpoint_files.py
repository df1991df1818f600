"""The files of a checkpoint on disk: atomic writes, sealed JSON records, confined arrays files.

A record (``epoch-NNNN.json``) is JSON sealed with the SHA-256 of its own canonical text, so a
flipped bit or a torn edit is an error rather than a different learning rate. It names its
arrays file by a plain name inside its own folder, with the file's size and SHA-256; the arrays
file carries the run's id and the epoch in its safetensors metadata, so a record cannot be
paired with another run's (or another epoch's) arrays. Every check failing raises
``CheckpointError`` with what was expected and what was found; a file damaged after it was
written (torn, truncated, bits flipped: a digest that does not match) raises its subclass
``CorruptCheckpointError``, so a resume can fall back to an older checkpoint for those alone.

File names count epochs from 1, as the console and ``history.csv`` do: ``epoch-0001.*`` holds
the first epoch. The record's ``epoch`` and ``best_epoch`` fields keep the training loop's
counter, which starts at 0 (Keras' ``on_epoch_end(epoch)``): ``epoch-0001.json`` says
``"epoch": 0``. Version 2 records, named from ``epoch-0000``, are refused with a message saying
so (version 3 is the first with these names).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import tempfile
from pathlib import Path

FORMAT = "aprende-checkpoint"
FORMAT_VERSION = 3  # 3: file names count epochs from 1 (version 2 named them from 0)
# A record holds the history and hyperparameters, never arrays: a few MiB at the most.
MAX_RECORD_BYTES = 64 * 2**20
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TEMPORARY = re.compile(r"^\..+\.tmp$")
_SEAL = "record_sha256"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated, foreign, or does not fit the model."""


class CorruptCheckpointError(CheckpointError):
    """A checkpoint file damaged after it was written: torn JSON, a digest or size that does
    not match what was recorded, an arrays file that is missing or not safetensors."""


# ---- atomic files ----------------------------------------------------------------------------


def _file_mode() -> int:
    """0666 less the umask, as ``open()`` would create the file (mkstemp makes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, payload: bytes) -> None:
    """Write bytes so that ``path`` holds either its old content or the new, never a mix.

    The bytes go to ``.<name>.<random>.tmp`` beside ``path``, are fsync'ed, and the temporary
    file is renamed over ``path`` (then the folder is fsync'ed so the rename is durable). A
    process killed before the rename leaves the temporary file, which
    ``remove_temporary_files`` clears on the next resume.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), _file_mode())
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_temporary_files(directory: Path) -> list[str]:
    """Delete what interrupted atomic writes left in ``directory`` (``.*.tmp``); their names.

    Only safe while no other process writes there: callers hold the folder's ``RunLock``.
    """
    removed = []
    for path in Path(directory).iterdir():
        if _TEMPORARY.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


# ---- reading a file that a record or a user names --------------------------------------------


def _regular_file(path: Path, what: str, follow_symlinks: bool) -> os.stat_result:
    """The stat of ``path``; a CheckpointError unless it is a regular file (not a device, a
    pipe, a folder, or, when not following them, a symlink)."""
    try:
        info = path.stat() if follow_symlinks else path.lstat()
    except FileNotFoundError:
        raise CheckpointError(f"{what} {path} is missing") from None
    except OSError as error:
        raise CheckpointError(f"{what} {path} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise CheckpointError(f"{what} {path} is {kind}; a checkpoint's files are plain files")
    return info


def read_record(path: Path) -> dict:
    """The verified JSON record at ``path``: parsed, sealed, of our format and version."""
    path = Path(path)
    info = _regular_file(path, "checkpoint", follow_symlinks=True)
    if info.st_size > MAX_RECORD_BYTES:
        raise CheckpointError(
            f"{path} is not an aprende checkpoint ({info.st_size} bytes; a record is at most "
            f"{MAX_RECORD_BYTES})"
        )
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise CorruptCheckpointError(
            f"{path} is not an aprende checkpoint (not valid JSON: {reason})"
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise CheckpointError(
            f"{path} is not an aprende checkpoint (expected format '{FORMAT}', got {found!r})"
        )
    if record.get(_SEAL) != _seal_of(record):
        raise CorruptCheckpointError(
            f"checkpoint {path} is damaged: its content does not match the SHA-256 recorded "
            "when it was written"
        )
    version = record.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        older = " (version 2 named its files from epoch-0000)" if version == 2 else ""
        raise CheckpointError(
            f"checkpoint {path} has format version {version!r}{older}; this aprende reads "
            f"version {FORMAT_VERSION} (start a new run folder, or use the aprende that wrote it)"
        )
    _check_fields(record, path)
    return record


def _check_fields(record: dict, path: Path) -> None:
    """The keys every record has, with their types (a crafted record stops here)."""
    epoch = record.get("epoch")
    if type(epoch) is not int or epoch < 0:
        raise CheckpointError(f"checkpoint {path}: 'epoch' must be an integer >= 0, got {epoch!r}")
    expected = {
        "run_id": str,
        "tensors": str,
        "sha256": str,
        "size": int,
        "state": dict,
        "history": dict,
        "config": dict,
        "metrics": dict,
    }
    for key, kind in expected.items():
        if type(record.get(key)) is not kind:
            found = "missing" if key not in record else type(record[key]).__name__
            raise CheckpointError(
                f"checkpoint {path}: key {key!r} must be {kind.__name__}, got {found}"
            )
    if "best_epoch" not in record:
        raise CheckpointError(f"checkpoint {path}: key 'best_epoch' is missing")
    best = record["best_epoch"]
    if best is not None and (type(best) is not int or not 0 <= best <= epoch):
        raise CheckpointError(
            f"checkpoint {path}: 'best_epoch' must be None or an epoch in 0..{epoch}, got {best!r}"
        )
    if record["tensors"] != tensors_name(epoch):
        raise CheckpointError(
            f"checkpoint {path} of epoch {epoch} names arrays file {record['tensors']!r}; "
            f"expected {tensors_name(epoch)!r}"
        )


def record_name(epoch: int) -> str:
    """The record of ``epoch`` (the loop's counter, from 0): ``epoch-NNNN.json``, NNNN = epoch+1."""
    return f"epoch-{epoch + 1:04d}.json"


def tensors_name(epoch: int) -> str:
    """The arrays file of ``epoch`` (from 0): ``epoch-NNNN.safetensors``, NNNN = epoch + 1."""
    return f"epoch-{epoch + 1:04d}.safetensors"


def _canonical(record: dict) -> bytes:
    body = {k: v for k, v in record.items() if k != _SEAL}
    return json.dumps(body, sort_keys=True, allow_nan=False, separators=(",", ":")).encode()


def _seal_of(record: dict) -> str | None:
    try:
        return hashlib.sha256(_canonical(record)).hexdigest()
    except (ValueError, TypeError, RecursionError):
        return None


def seal(record: dict) -> dict:
    """``record`` with its ``record_sha256`` set (what ``read_record`` verifies)."""
    return {**record, _SEAL: hashlib.sha256(_canonical(record)).hexdigest()}


def encode_record(record: dict) -> bytes:
    """The sealed record as the bytes of its file."""
    return json.dumps(seal(record), indent=1, allow_nan=False).encode()


def read_tensors_payload(record: dict, record_path: Path) -> bytes:
    """The bytes of the arrays file a verified record names, confined to the record's folder,
    of the declared size and digest, bound to the record's run and epoch."""
    name = record["tensors"]
    if not _PLAIN_NAME.match(name) or name in (".", ".."):
        raise CheckpointError(
            f"checkpoint {record_path} names arrays file {name!r}: expected a plain file name "
            "in the checkpoint's own folder"
        )
    tensors_path = record_path.parent / name
    try:
        info = _regular_file(tensors_path, f"checkpoint {record_path} names", follow_symlinks=False)
    except CheckpointError as error:
        # Arrays are written before their record: a record without them lost its file.
        if tensors_path.exists() or tensors_path.is_symlink():
            raise
        raise CorruptCheckpointError(str(error)) from None
    if info.st_size != record["size"]:
        raise CorruptCheckpointError(
            f"checkpoint file {tensors_path} is truncated or corrupt ({info.st_size} bytes; "
            f"{record['size']} were written)"
        )
    payload = tensors_path.read_bytes()[: record["size"]]
    if hashlib.sha256(payload).hexdigest() != record["sha256"]:
        raise CorruptCheckpointError(
            f"checkpoint file {tensors_path} is truncated or corrupt ({len(payload)} bytes; "
            "its SHA-256 does not match the one recorded when it was written)"
        )
    found = safetensors_metadata(payload, tensors_path)
    wanted = binding(record["run_id"], record["epoch"])
    if any(found.get(k) != v for k, v in wanted.items()):
        raise CheckpointError(
            f"checkpoint {record_path} names {tensors_path}, which belongs to another run or "
            f"epoch (it says run {found.get('run_id')!r}, epoch {found.get('epoch')!r}; the "
            f"record says run {record['run_id']!r}, epoch {record['epoch']})"
        )
    return payload


def binding(run_id: str, epoch: int) -> dict[str, str]:
    """The safetensors metadata that ties an arrays file to its run and epoch."""
    return {"format": FORMAT, "run_id": run_id, "epoch": str(epoch)}


def safetensors_metadata(payload: bytes, path: Path) -> dict:
    """The ``__metadata__`` of a safetensors payload, its header checked against its size."""
    if len(payload) < 8:
        raise CorruptCheckpointError(
            f"{path} is not a valid safetensors file ({len(payload)} bytes)"
        )
    (length,) = struct.unpack("<Q", payload[:8])
    if length > len(payload) - 8:
        raise CorruptCheckpointError(
            f"{path} is not a valid safetensors file (its header declares {length} bytes; the "
            f"file has {len(payload)})"
        )
    try:
        header = json.loads(payload[8 : 8 + length])
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CorruptCheckpointError(
            f"{path} is not a valid safetensors file (bad header)"
        ) from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata if isinstance(metadata, dict) else {}
