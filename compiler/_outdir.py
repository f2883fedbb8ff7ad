"""An output folder written all at once, by one compile at a time.

The new content is built in a staging folder beside the target (same parent, so the renames
stay on one file system) and swapped in: the old folder is renamed aside, the new one renamed
in, the old one deleted. SIGTERM, SIGINT and SIGALRM are held back during the two renames,
and an exception between them puts the old folder back; only SIGKILL can stop the swap half
way, and the next writer (or reader, through `recover`) puts the previous output back. A lock
file beside the folder (`fcntl.flock`) keeps two writers apart; it is removed on release.

Names beside the target `out`: `.out.lock`, `.out.pimc-stage.PID.RAND` (being built) and
`.out.pimc-old.PID.RAND` (the previous output during the swap). Staging and old folders of a
process that is gone, or older than STALE_SECONDS, are swept when the folder is next claimed.

Test hook: the environment variable PIMC_FAULT=POINT[:SIGNAL] sends the process SIGNAL
(default KILL) at POINT: staged (staging folder made, empty), partial (some files written),
written (staging complete), after-rename-1 (old folder aside), after-rename-2 (new folder in,
old not yet deleted). Only tests set it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ir.errors import PimcError

__all__ = ["OutputFolder", "fault_point", "recover", "STALE_SECONDS"]

STALE_SECONDS = 3600.0
_HELD = {signal.SIGTERM, signal.SIGINT, signal.SIGALRM}


def fault_point(point: str) -> None:
    """The test hook: signal this process at `point` when PIMC_FAULT names it."""
    want = os.environ.get("PIMC_FAULT", "")
    name, _, sig = want.partition(":")
    if name == point:
        os.kill(os.getpid(), getattr(signal, f"SIG{sig or 'KILL'}"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _leftovers(out: Path, kind: str) -> list[tuple[Path, int]]:
    """(folder, pid) of every `.NAME.pimc-KIND.PID.RAND` beside `out`."""
    prefix = f".{out.name}.pimc-{kind}."
    found = []
    for p in out.parent.glob(f"{glob_escape(prefix)}*"):
        pid = p.name[len(prefix):].split(".", 1)[0]
        if p.is_dir() and pid.isdigit():
            found.append((p, int(pid)))
    return found


def glob_escape(text: str) -> str:
    """`text` with glob's special characters made literal."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _stale(path: Path, pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return not _pid_alive(pid) or age > STALE_SECONDS


def recover(out: Path) -> None:
    """Undo what a killed writer left: put the previous output back when the swap stopped
    between its renames, and delete stale staging and old folders."""
    for old, pid in _leftovers(out, "old"):
        if not _stale(old, pid):
            continue
        if not out.exists():
            os.rename(old, out)  # killed between the renames: the previous output returns
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stage, pid in _leftovers(out, "stage"):
        if _stale(stage, pid):
            shutil.rmtree(stage, ignore_errors=True)


class OutputFolder:
    """`with OutputFolder(out, owned) as folder: folder.replace(fill)`: check `out`, hold its
    lock, and swap in a folder that `fill(staging)` wrote completely. Files of the old folder
    not named in `owned` (the user's own) are carried over; anything else there is refused."""

    def __init__(self, out: str | Path, owned: tuple[str, ...] = ()) -> None:
        self.out = Path(out)
        self.owned = owned
        self.lock = self.out.parent / f".{self.out.name}.lock"
        self._fd: int | None = None

    def __enter__(self) -> OutputFolder:
        check_folder(self.out, self.owned)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._fd = _acquire(self.lock, self.out)
        try:
            recover(self.out)
            check_folder(self.out, self.owned)  # again: what recover put back, under the lock
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.lock.unlink(missing_ok=True)  # before unlocking: a waiter re-checks the inode
            os.close(self._fd)
            self._fd = None

    def replace(self, fill: Callable[[Path], None]) -> list[Path]:
        """Build the new content with `fill(staging)` and swap it in; returns its files."""
        stage = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.pimc-stage.{os.getpid()}.",
                                      dir=self.out.parent))
        try:
            from ir.io import current_umask

            os.chmod(stage, 0o777 & ~current_umask())  # mkdtemp's 0700: the name's, not ours
            fault_point("staged")
            _keep_foreign(self.out, stage, self.owned)
            fill(stage)
            fault_point("written")
            self._swap(stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return sorted(self.out.iterdir())

    def _swap(self, stage: Path) -> None:
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.pimc-old.{os.getpid()}.",
                                        dir=self.out.parent))
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            if old is not None:
                os.rename(self.out, old)  # replaces the empty placeholder folder
                fault_point("after-rename-1")
            try:
                os.rename(stage, self.out)
            except BaseException:
                if old is not None:
                    os.rename(old, self.out)
                raise
            fault_point("after-rename-2")
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def check_folder(out: Path, owned: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, an output path that cannot become a folder or whose
    replacement would delete something pimc did not write (`owned`: the names it writes)."""
    if out.is_symlink():
        raise PimcError("output is a symbolic link; give the folder itself", str(out))
    if out.exists() and not out.is_dir():
        raise PimcError("output exists and is not a folder", str(out))
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        raise PimcError("output is the current folder or holds it; choose a subfolder",
                        str(out))
    odd = sorted(p.name for p in _foreign(out, owned) if p.is_symlink() or not p.is_file())
    if odd:
        raise PimcError(f"output folder holds '{odd[0]}', which is not a plain file pimc can "
                        "keep; choose a new or empty folder", str(out))


def _foreign(out: Path, owned: tuple[str, ...]) -> list[Path]:
    """What the folder holds beyond pimc's own names (kept across the swap)."""
    return [p for p in out.iterdir() if p.name not in owned] if out.is_dir() else []


def _keep_foreign(out: Path, stage: Path, owned: tuple[str, ...]) -> None:
    """Carry the user's own files into the new folder: hard links, so nothing is copied and
    nothing of theirs is lost when the old folder is deleted."""
    for p in _foreign(out, owned):
        try:
            os.link(p, stage / p.name)
        except OSError:  # a file system without hard links
            shutil.copy2(p, stage / p.name)
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PimcError(f"cannot create the output folder: {parent} is not a folder", str(out))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PimcError(f"cannot create the output folder: {parent} is not writable", str(out))


def _acquire(lock: Path, out: Path) -> int:
    """An exclusive flock on `lock`, on the file the path names now (a releaser unlinks it
    first, so a lock on an unlinked file is taken again)."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PimcError("another pimc process is writing this output folder (lock "
                            f"{lock.name} is held); wait for it or choose another -o",
                            str(out)) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def scratch_prefix() -> str:
    """The name prefix of a compile's scratch folder in the temp folder: the pid in it lets a
    later compile sweep what a killed one left (`sweep_scratch`)."""
    return f"pimc-{os.getpid()}-"


def sweep_scratch() -> list[Path]:
    """Delete this user's `pimc-PID-*` scratch folders whose process is gone; returns them."""
    swept = []
    for p in Path(tempfile.gettempdir()).glob("pimc-*-*"):
        pid = p.name.split("-")[1]
        try:
            mine = p.is_dir() and not p.is_symlink() and p.stat().st_uid == os.getuid()
        except FileNotFoundError:
            continue
        if mine and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
            swept.append(p)
    return swept
