"""Finding and running `sparrowc`, and what identifies it in the cache.

Where the compiler comes from, first match wins:
  1. the `SPARROWC` environment variable (a path to the binary);
  2. `sparrowc` on `PATH`;
  3. the release build of the repository: `.build/release/sparrowc` in the folder this
     package was installed from (recorded in `_origin.py` by setup.py), above this file
     (running from a checkout), or above the working directory.
Each failure of the compiler becomes a `CompileError` carrying its diagnostic lines
(`file: node 'name' (Op): what is wrong`) and exit code.
"""
import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

RELEASE_BUILD = Path(".build") / "release" / "sparrowc"


class SparrowError(Exception):
    """The base of every error this package raises."""


class CompilerNotFoundError(SparrowError, FileNotFoundError):
    """No `sparrowc` was found."""


class CompileError(SparrowError):
    """`sparrowc` refused the model or failed; `diagnostics` are its stderr lines."""

    def __init__(self, command, returncode, stderr):
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr
        self.diagnostics = [line for line in stderr.splitlines() if line.strip()]
        kind = {1: "rejected the model", 2: "was called wrongly", 3: "hit an internal error"}
        summary = kind.get(returncode, f"failed (exit code {returncode})")
        detail = "\n".join(self.diagnostics) or "(no diagnostic on stderr)"
        super().__init__(f"sparrowc {summary}:\n{detail}")


def _origin_root():
    try:
        from . import _origin  # written by setup.py at install time
        return Path(_origin.REPOSITORY)
    except ImportError:
        return None


def _candidate_roots():
    roots = []
    origin = _origin_root()
    if origin is not None:
        roots.append(origin)
    roots.extend(Path(__file__).resolve().parents)
    cwd = Path.cwd().resolve()
    roots.extend([cwd, *cwd.parents])
    return roots


def find_compiler():
    """The path of `sparrowc`, or CompilerNotFoundError saying how to get one."""
    explicit = os.environ.get("SPARROWC")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
        raise CompilerNotFoundError(
            f"SPARROWC={explicit} is not an executable file; point it at a sparrowc binary "
            "(e.g. <repository>/.build/release/sparrowc) or unset it")
    on_path = shutil.which("sparrowc")
    if on_path:
        return Path(on_path).resolve()
    for root in _candidate_roots():
        candidate = root / RELEASE_BUILD
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    raise CompilerNotFoundError(
        "sparrowc not found: set SPARROWC=/path/to/sparrowc, put sparrowc on PATH, or build "
        "it in the Sparrow repository with `make build` (it lands in .build/release/sparrowc)")


_identity_lock = threading.Lock()
_identities = {}


def compiler_identity(path, cache_dir):
    """A hash of the compiler binary's bytes (the tool has no version number that would
    change with every rebuild). Hashing ~100 MB takes a moment, so the result is kept per
    (path, size, mtime, inode) in memory and in `cache_dir/compilers/`."""
    st = os.stat(path)
    stamp = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"
    with _identity_lock:
        if stamp in _identities:
            return _identities[stamp]
    memo = Path(cache_dir) / "compilers" / hashlib.sha256(stamp.encode()).hexdigest()
    try:
        identity = memo.read_text().strip()
    except OSError:
        identity = ""
    if len(identity) != 64:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                digest.update(chunk)
        identity = digest.hexdigest()
        from ._cache import write_atomically
        write_atomically(memo, identity.encode())
    with _identity_lock:
        _identities[stamp] = identity
    return identity


compile_count = 0  # how many times this process ran `sparrowc compile` (tests read it)


def run_compiler(args, compiler=None):
    """Runs `sparrowc ARGS`; returns stdout, raises CompileError on a non-zero exit."""
    global compile_count
    command = [str(compiler or find_compiler()), *map(str, args)]
    if args and args[0] == "compile":
        compile_count += 1
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise CompileError(command, proc.returncode, proc.stderr)
    return proc.stdout


def flag_args(sparsity="auto", opt_level=None, target_cpu=None, extra_args=()):
    """The pipeline and target flags shared by compile and inspect."""
    args = []
    if sparsity is not None:
        args += ["--sparsity", str(sparsity)]
    if opt_level is not None:
        level = str(opt_level).lstrip("-O")
        if level not in ("0", "1", "2"):
            raise ValueError(f"opt_level must be 0, 1 or 2, got {opt_level!r}")
        args.append(f"-O{level}")
    if target_cpu is not None:
        args += ["--target-cpu", str(target_cpu)]
    args += [str(a) for a in extra_args]
    return args


def shape_args(input_shapes):
    """`--input-shape NAME=AxBxC` for each entry of {name: shape}."""
    args = []
    for name, shape in (input_shapes or {}).items():
        if len(shape) == 0:
            continue  # a scalar has nothing to bind
        args += ["--input-shape", f"{name}={'x'.join(str(int(d)) for d in shape)}"]
    return args
