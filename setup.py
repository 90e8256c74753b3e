"""Maps the import name `pywhatsapp` onto src/ and `pywhatsapp.migrations` onto migrations/.

Everything else about the package is in pyproject.toml; setuptools cannot express a renamed root
package with automatic discovery there.
"""

from setuptools import find_packages, setup

packages = ["pywhatsapp"] + [f"pywhatsapp.{name}" for name in find_packages("src")]
packages += ["pywhatsapp.migrations"] + [
    f"pywhatsapp.migrations.{name}" for name in find_packages("migrations")
]

setup(
    packages=packages,
    package_dir={"pywhatsapp": "src", "pywhatsapp.migrations": "migrations"},
)
