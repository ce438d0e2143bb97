"""Only a build step pyproject.toml cannot express: config/ and expectations/ (top-level folders of the project) and
constraints.txt (the lock file the manifest hashes) are copied into the wheel as package data of bcf._resources, so an
installed `bcf` finds them with importlib.resources; build_info.json records the git commit the wheel was built from
(an installed copy has no .git to ask). Everything else is in pyproject.toml."""

import json
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's folders directly
            return
        target = Path(self.build_lib) / "bcf" / "_resources"
        for name in ("config", "expectations"):
            shutil.copytree(HERE / name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copyfile(HERE / "constraints.txt", target / "constraints.txt")
        (target / "build_info.json").write_text(json.dumps({"git_commit": _git_commit()}) + "\n", encoding="utf-8")


def _git_commit() -> str:
    """HEAD of the checkout being built, '+dirty' with uncommitted changes; '' outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if dirty else "")


setup(cmdclass={"build_py": BuildWithResources})
