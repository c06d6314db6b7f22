"""The on-disk cache of compiled libraries, keyed by content.

    $SPARROW_CACHE_DIR, else $XDG_CACHE_HOME/sparrow, else ~/.cache/sparrow
      libraries/<key>.so    one specialization of one model
      models/<hash>.onnx    models given as bytes (the compiler reads files)
      models/stamps/<stamp> the content hash of a model file, per path/size/mtime
      compilers/<stamp>     the content hash of a sparrowc binary, per path/size/mtime

The key hashes everything the library's bytes depend on: the model's bytes (and its
external data files), the bound input shapes, the compile flags, the compiler binary
and the CPU (a `native` target tunes for it). Files appear under their final name only
when complete (written to a temporary name in the same folder, then renamed), so
concurrent sessions and interrupted compiles never see a partial library.
"""
import hashlib
import json
import os
import platform
import tempfile
from functools import lru_cache
from pathlib import Path

FORMAT = 1  # bump when the layout of the cache or the key changes


def cache_dir():
    explicit = os.environ.get("SPARROW_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and os.path.isabs(os.path.expanduser(xdg)) \
        else Path.home() / ".cache"
    return base / "sparrow"


def write_atomically(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def temporary_path(final_path):
    """A fresh name next to `final_path` (same folder, so os.replace is atomic)."""
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final_path.parent, prefix=f".{final_path.stem}.",
                               suffix=final_path.suffix)
    os.close(fd)
    return Path(tmp)


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


@lru_cache(maxsize=1)
def cpu_identity():
    """The CPU model and its feature flags (what `--target-cpu native` depends on)."""
    text = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key = line.split(":", 1)[0].strip()
                if key in ("model name", "flags", "vendor_id"):
                    text += "\n" + line.strip()
                elif not line.strip() and "flags" in text:
                    break  # the first processor describes them all
    except OSError:
        text += "\n" + platform.processor()
    return hashlib.sha256(text.encode()).hexdigest()


def model_file_hash(path, external_files=()):
    """content_hash of a model file, remembered per (path, size, mtime, ctime, inode) of
    it and its external data in `models/stamps/`, so a second session (in any process)
    skips reading and hashing a large model."""
    parts = []
    for p in [path, *external_files]:
        try:
            st = os.stat(p)
            parts.append(f"{os.path.abspath(p)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")
        except OSError:
            parts.append(f"{p}\0<missing>")
    stamp = hashlib.sha256("\0\0".join(parts).encode()).hexdigest()
    memo = cache_dir() / "models" / "stamps" / stamp
    try:
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    with open(path, "rb") as f:
        digest = content_hash(f.read(), external_files)
    write_atomically(memo, digest.encode())
    return digest


def content_hash(data, external_files=()):
    """sha256 of model bytes plus the bytes of its external data files."""
    digest = hashlib.sha256()
    digest.update(data)
    for path in external_files:
        digest.update(b"\0external\0" + os.fsencode(os.path.basename(path)) + b"\0")
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 22), b""):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<missing>")  # the compiler will name the file
    return digest.hexdigest()


def library_key(model_hash, input_shapes, flags, compiler_id):
    description = {
        "format": FORMAT,
        "model": model_hash,
        "shapes": sorted((name, list(shape)) for name, shape in input_shapes.items()),
        "flags": list(flags),
        "compiler": compiler_id,
        "cpu": cpu_identity(),
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:40]
