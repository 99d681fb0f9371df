"""Serving uploaded files from MEDIA_ROOT: the coaches' photos, with DEBUG on or off.

Django serves media only with DEBUG on (``django.conf.urls.static``), and WhiteNoise
indexes its files when the process starts, so neither shows a photo uploaded a minute
ago in production. This view does, for the public directories only
(``PUBLIC_MEDIA_DIRECTORIES``), one file name at a time: no subdirectories, no dot
files, a fixed set of image types (anything else is 404, whatever is on disk), with
ETag and Last-Modified for conditional requests. A reverse proxy or an object store can
serve MEDIA_ROOT instead (docs/operations.md, "Coach photos"); the view then simply
gets no requests.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

PUBLIC_MEDIA_DIRECTORIES = frozenset({"coaches"})
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
# Photos get a new random name on every upload, but a removed one should not live on in caches for long.
CACHE_SECONDS = 24 * 60 * 60
_NAME = re.compile(r"[\w-][\w.-]{0,199}")  # what Django's storage keeps of a name


def _public_file(directory: str, name: str) -> Path | None:
    """The file ``directory/name`` under MEDIA_ROOT when it may be served; None otherwise."""
    if directory not in PUBLIC_MEDIA_DIRECTORIES or not _NAME.fullmatch(name) or ".." in name:
        return None
    if Path(name).suffix.lower() not in CONTENT_TYPES:
        return None
    root = (Path(settings.MEDIA_ROOT) / directory).resolve()
    path = (root / name).resolve()
    # A symlink out of the directory is refused like a traversal.
    if path.parent != root or not path.is_file():
        return None
    return path


@require_safe
def serve_media(request: HttpRequest, directory: str, name: str) -> HttpResponse:
    """One public upload (``/media/coaches/<name>``), or 404."""
    path = _public_file(directory, name)
    if path is None:
        raise Http404("No such file.")
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    last_modified = int(stat.st_mtime)
    response: HttpResponse | None = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = FileResponse(path.open("rb"), content_type=CONTENT_TYPES[path.suffix.lower()])
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # An image opened on its own is not a page: it may load nothing and run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
