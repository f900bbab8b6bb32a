"""Build hook, and only that (the project's metadata is in pyproject.toml).

The SQL lives at the repository's top level (sql/: migrations and the queries of each stage), where it is easy
to see and to change. A wheel carries a copy of it as the package data `rubricate/sql`, so an installed
rubricate finds its SQL without the repository; a source checkout or an editable install reads sql/ directly
(rubricate.store.sqlfiles).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SQL = Path(__file__).resolve().parent / "sql"


class BuildPyWithSql(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's sql/ itself
            return
        target = Path(self.build_lib) / "rubricate" / "sql"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(SQL, target, ignore=shutil.ignore_patterns("*.md"))


setup(cmdclass={"build_py": BuildPyWithSql})
