"""The packages the demos are built from, fetched with their ordinary clients and unpacked.

Debian packages come from ``apt-get download`` (pinned versions, unpacked with
``dpkg -x``), npm packages from ``npm pack``; Python packages (scikit-image, scikit-learn,
matplotlib) are imported from the environment (requirements-dev.txt pins them). A source
already unpacked under the cache folder is used as it is, so a rebuild is offline.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

#: Debian (bookworm) packages and the exact versions the bundled demos were built from.
DEBIAN = {
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lomiri-wallpapers-20.04": "20.04.0-2",
    "mate-backgrounds": "1.26.0-1",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "palapeli-data": "4:22.12.3-1",
    "fonts-noto-color-emoji": "2.042-0+deb12u1",
}
#: npm packages: the emoji names and categories that name the shop's pictures.
NPM = {"emoji-datasource-google": "16.0.0"}


def debian(package: str, cache: Path) -> Path:
    """The unpacked root of Debian ``package`` (its ``usr/share/...`` tree)."""
    root = cache / "debian" / package
    if not root.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            spec = f"{package}={DEBIAN[package]}"
            subprocess.run(["apt-get", "download", spec], cwd=tmp, check=True)
            (deb,) = Path(tmp).glob("*.deb")
            root.mkdir(parents=True)
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def npm(package: str, cache: Path) -> Path:
    """The unpacked ``package/`` folder of npm ``package``."""
    root = cache / "npm" / package
    if not root.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            spec = f"{package}@{NPM[package]}"
            subprocess.run(["npm", "pack", "-q", spec], cwd=tmp, check=True)
            (tarball,) = Path(tmp).glob("*.tgz")
            root.mkdir(parents=True)
            with tarfile.open(tarball) as archive:
                archive.extractall(root, filter="data")
    return root / "package"
