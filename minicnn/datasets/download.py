"""Fetch a public archive once: download, check its size and checksum, unpack into the cache.

The cache is $MINICNN_DATA, or ~/.cache/minicnn. pooch does the download and
the hash check; a local path (or file:// URL) is copied instead, which is how
the tests exercise this code without a network.
"""

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass
class Archive:
    url: str
    known_hash: str | None    # "md5:..." or "sha256:..."; None where no published checksum is known
    size: int | None          # bytes; None where unknown
    folder: str               # what the archive unpacks to


def cache_dir():
    return os.environ.get("MINICNN_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "minicnn")


def fetch(archive, download=True):
    """The folder the archive unpacks to, downloading and unpacking it on first use."""
    root = cache_dir()
    target = os.path.join(root, archive.folder)
    if os.path.isdir(target):
        return target
    if not download:
        raise FileNotFoundError(f"{target} does not exist; pass download=True, or root= a local copy")
    os.makedirs(root, exist_ok=True)
    try:
        path = _retrieve(archive, root)
    except ValueError:
        raise                                   # the checksum's error, as pooch words it
    except Exception as error:                  # no network (requests' errors are OSErrors), a full disk...
        raise OSError(f"could not download {archive.url} ({type(error).__name__}: {error}). Offline? Pass root= "
                      f"a local copy of the data set (a folder laid out as {archive.folder}/)") from error
    size = os.path.getsize(path)
    if archive.size is not None and size != archive.size:
        os.remove(path)
        raise OSError(f"{archive.url}: downloaded {size} bytes, expected {archive.size}; the file was removed, "
                      f"try again")
    staging = tempfile.mkdtemp(dir=root, prefix=".unpack-")
    try:
        try:
            with zipfile.ZipFile(path) as zipped:
                zipped.extractall(staging)
        except (zipfile.BadZipFile, EOFError) as error:
            os.remove(path)                     # so that the next call downloads it again
            raise OSError(f"{path} is damaged ({error}); it was removed, so the next call downloads it "
                          f"again") from None
        unpacked = os.path.join(staging, archive.folder)
        if not os.path.isdir(unpacked):
            raise OSError(f"{path} does not contain the folder {archive.folder!r}")
        os.replace(unpacked, target)          # all or nothing: no half-unpacked folder is left behind
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _retrieve(archive, root):
    import pooch

    local = _local_path(archive.url)
    downloader = (lambda url, output, _pooch: shutil.copyfile(local, output)) if local else None
    return pooch.retrieve(archive.url, known_hash=archive.known_hash,
                          fname=os.path.basename(urlparse(archive.url).path),
                          path=root, downloader=downloader, progressbar=local is None)


def _local_path(url):
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return parsed.path
    return url if parsed.scheme == "" else None
