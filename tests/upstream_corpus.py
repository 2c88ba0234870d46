"""Files of an upstream source tree (strongSwan, Libreswan) for the corpus tests, read from a
git mirror (``git cat-file``; no work tree needed) or a checked-out folder.

Where the trees are: ``IKEVIEW_STRONGSWAN_SRC`` / ``IKEVIEW_LIBRESWAN_SRC`` (a checkout or a
bare git directory), else the mirrors this project's sessions fetch to
``/work/.mirror/<owner>+<name>/repo``. Nothing is copied into the repository.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import subprocess
from collections.abc import Callable
from pathlib import Path

DEFAULTS = {
    "strongswan": ("IKEVIEW_STRONGSWAN_SRC", "/work/.mirror/strongswan+strongswan/repo"),
    "libreswan": ("IKEVIEW_LIBRESWAN_SRC", "/work/.mirror/libreswan+libreswan/repo"),
}


def source(project: str) -> Path | None:
    """The tree of ``project``, or None when it is not on this machine."""
    env, default = DEFAULTS[project]
    path = Path(os.environ.get(env, default))
    return path if path.exists() else None


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def read_tree(root: Path, keep: Callable[[str], bool]) -> dict[str, str]:
    """``{path: text}`` of the files whose repository path ``keep`` accepts."""
    if not _is_git_dir(root):
        out = {}
        for p in root.rglob("*"):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and keep(rel):
                out[rel] = p.read_bytes().decode("utf-8", errors="replace")
        return out
    names = subprocess.run(
        ["git", "--git-dir", str(root), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout.splitlines()  # fmt: skip
    wanted = [n for n in names if keep(n)]
    run = subprocess.run(
        ["git", "--git-dir", str(root), "cat-file", "--batch"],
        input="".join(f"HEAD:{n}\n" for n in wanted).encode(),
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    out: dict[str, str] = {}
    data, pos = run.stdout, 0
    for name in wanted:
        header_end = data.index(b"\n", pos)
        header = data[pos:header_end].split()
        if header[-1] == b"missing":
            pos = header_end + 1
            continue
        size = int(header[2])
        out[name] = data[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace")
        pos = header_end + 1 + size + 1
    return out


def tree_resolver(files: dict[str, str]) -> Callable[[str, str], list[tuple[str, str]]]:
    """An include resolver over ``files`` (paths relative to the repository)."""

    def resolve(pattern: str, including: str) -> list[tuple[str, str]]:
        full = posixpath.normpath(posixpath.join(posixpath.dirname(including), pattern))
        return [(n, files[n]) for n in sorted(files) if fnmatch.fnmatchcase(n, full)]

    return resolve
