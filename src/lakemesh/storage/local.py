"""Local storage: ``file:///abs/path`` URIs and plain local paths."""

from __future__ import annotations

import os
import posixpath
import re
from typing import TYPE_CHECKING

from lakemesh.errors import InvalidInputError
from lakemesh.storage.base import Link, Listing, StorageBackend, check_literal_path

if TYPE_CHECKING:
    import fsspec

# file:///abs, file://localhost/abs or file:/abs; any other host is refused.
_FILE_PREFIX = re.compile(r"^file:(?://(?:localhost)?(?=/)|(?=/(?!/)))", re.IGNORECASE)


class LocalStorage(StorageBackend):
    """Folders on the hub's own disk.

    URIs are written ``file:///abs/path``; ``file://localhost/abs``, ``file:/abs``, ``~/x`` and
    relative paths (against the working directory) are accepted and normalized. Paths are taken
    literally: no percent-decoding (so percent-encoded dots and slashes are refused), and
    :meth:`normalize` does not resolve symbolic links; :meth:`real_uri` does. Listings never
    follow a link: :meth:`list_files` reports each one with the real path it leads to.
    """

    scheme = "file"

    def normalize(self, uri: str) -> str:
        return "file://" + self.to_path(uri)

    def segments(self, uri: str) -> tuple[str, ...]:
        return tuple(part for part in self.to_path(uri).split("/") if part)

    def to_path(self, uri: str) -> str:
        check_literal_path(uri)
        text = uri.strip()
        match = _FILE_PREFIX.match(text)
        if match:
            text = text[match.end() :]
        elif text.lower().startswith("file:"):
            raise InvalidInputError(
                f"Invalid local storage URI: {uri!r} (expected file:///absolute/path)",
                details={"uri": uri},
            )
        if not text:
            raise InvalidInputError(
                "Invalid local storage URI: '' (empty path)", details={"uri": uri}
            )
        path = os.path.abspath(os.path.expanduser(text)).replace(os.sep, "/")
        # POSIX keeps a leading '//' as implementation-defined; lakemesh has one spelling.
        path = "/" + path.lstrip("/") if path.startswith("//") else path
        return posixpath.normpath(path)

    def to_uri(self, path: str) -> str:
        return self.normalize(path)

    def filesystem(self) -> fsspec.AbstractFileSystem:
        # Imported here for the CLI's startup time: fsspec loads only when files are read.
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()

    def real_uri(self, uri: str) -> str:
        """``file://`` and the real path: links, ``/proc/*/root`` and ``..`` resolved."""
        return "file://" + os.path.realpath(self.to_path(uri))

    def list_files(self, path: str) -> Listing:
        listing = Listing()
        folders = [path]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    name = entry.path.replace(os.sep, "/")
                    if entry.is_symlink():
                        listing.links.append(Link(name, os.path.realpath(entry.path)))
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        listing.files[name] = entry.stat(follow_symlinks=False).st_size
        return listing
