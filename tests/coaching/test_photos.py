"""Coach photos: re-encoded on upload (upright, no metadata, capped size, a random name), bombs and
non-images refused with a message, and served from MEDIA_ROOT with DEBUG off, nothing outside it."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
import zlib
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, override_settings
from PIL import ExifTags, Image

from coaching.models import Coach
from common.images import MAX_PHOTO_SIDE, reencode_photo

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
GPS_LATITUDE = (52.0, 31.0, 12.0)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b"<rdf:Description>secret-xmp-location</rdf:Description></rdf:RDF></x:xmpmeta>"
)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def phone_jpeg(size: tuple[int, int] = (60, 40)) -> bytes:
    """A JPEG as a phone writes it: left half red, right half blue, stored sideways
    (EXIF orientation 6: turn 90° clockwise to view), with GPS, XMP and a comment."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), xmp=XMP, comment=b"taken at home")
    data = out.getvalue()
    assert b"Exif" in data and b"secret-xmp-location" in data  # the test's own premise
    return data


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` × ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "IMG_0001.JPG", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def save_photo(client: Client, photo: SimpleUploadedFile) -> object:
    return client.post("/dashboard/landing/", {"headline": "Hello", "photo": photo, "action": "save"})


def stored_bytes(coach: Coach) -> bytes:
    coach.refresh_from_db()
    with coach.photo.open("rb") as file:
        return file.read()


# ---------------------------------------------------------------------------
# Re-encoding
# ---------------------------------------------------------------------------
def test_an_uploaded_photo_is_stored_upright_without_exif_gps_or_xmp_under_a_random_name(
    coach_client: Client, coach: Coach
) -> None:
    response = save_photo(coach_client, upload(phone_jpeg()))
    assert response.status_code == HTTPStatus.FOUND

    data = stored_bytes(coach)
    assert b"Exif" not in data
    assert b"secret-xmp-location" not in data and b"xmpmeta" not in data
    assert b"taken at home" not in data and b"PhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info and "xmp" not in image.info
        # Turned upright: 60×40 stored sideways is 40×60, the red (left) half now on top.
        assert image.size == (40, 60)
        red, _, blue = image.convert("RGB").getpixel((20, 5))
        assert red > 200 and blue < 60
        red, _, blue = image.convert("RGB").getpixel((20, 55))
        assert blue > 200 and red < 60
    name = coach.photo.name
    assert name.startswith("coaches/") and name.endswith(".jpg")
    assert "IMG_0001" not in name and len(Path(name).stem) == 32


def test_a_large_photo_is_scaled_down_to_the_longest_side() -> None:
    out = io.BytesIO()
    Image.new("RGB", (3000, 1500), "teal").save(out, "JPEG")
    data, extension = reencode_photo(out.getvalue())
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (MAX_PHOTO_SIDE, MAX_PHOTO_SIDE // 2)
    assert extension == "jpg"


def test_a_photo_with_transparency_stays_png_without_text_chunks() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-text-chunk")
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 0)).save(out, "PNG", pnginfo=info)
    data, extension = reencode_photo(out.getvalue())
    assert extension == "png"
    assert b"secret-text-chunk" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_a_huge_pixel_count_is_refused_with_a_message_not_decoded(coach_client: Client, coach: Coach) -> None:
    bomb = png_header_only(8_000, 6_000)  # 48 megapixels in about a hundred bytes
    response = save_photo(coach_client, upload(bomb, "bomb.png", "image/png"))
    assert response.status_code == HTTPStatus.OK
    assert "This image is 8000 × 6000 pixels, more than we can take (40 megapixels)" in (
        response.content.decode()
    )
    coach.refresh_from_db()
    assert not coach.photo


def test_a_bomb_beyond_pillows_own_limit_is_refused_too() -> None:
    with pytest.raises(ValidationError) as refused:
        reencode_photo(png_header_only(20_000, 20_000))
    assert refused.value.code == "too_many_pixels"


@pytest.mark.parametrize(
    "data",
    [b"not an image", b"GIF89a" + b"\x00" * 10, png_header_only(10, 10)[:40], b"%PDF-1.4\n"],
    ids=["text", "truncated-gif", "truncated-png", "pdf"],
)
def test_what_is_not_a_photo_is_refused_with_a_message(data: bytes) -> None:
    with pytest.raises(ValidationError) as refused:
        reencode_photo(data)
    assert refused.value.code == "invalid_image"


def test_a_file_over_5_mb_is_refused_before_it_is_decoded(coach_client: Client, coach: Coach) -> None:
    response = save_photo(coach_client, upload(b"\xff\xd8" + b"\x00" * (5 * 1024 * 1024 + 1)))
    assert response.status_code == HTTPStatus.OK
    assert "This photo is larger than 5 MB" in response.content.decode()


def test_a_replaced_photo_is_deleted_from_storage(
    coach_client: Client, coach: Coach, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        save_photo(coach_client, upload(phone_jpeg()))
    coach.refresh_from_db()
    first = Path(coach.photo.path)
    with django_capture_on_commit_callbacks(execute=True):
        save_photo(coach_client, upload(phone_jpeg()))
    coach.refresh_from_db()
    assert Path(coach.photo.path).is_file()
    assert not first.exists()


# ---------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------
@override_settings(DEBUG=False)
def test_a_photo_is_served_with_debug_off(coach_client: Client, coach: Coach) -> None:
    save_photo(coach_client, upload(phone_jpeg()))
    coach.refresh_from_db()
    anonymous = Client()

    response = anonymous.get(coach.photo.url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("public, max-age=")
    assert b"".join(response.streaming_content) == stored_bytes(coach)
    again = anonymous.get(coach.photo.url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert response["Last-Modified"]


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    "path",
    [
        "/media/coaches/../../config/settings.py",
        "/media/coaches/..%2F..%2Fconfig%2Fsettings.py",
        "/media/../config/settings.py",
        "/media/coaches/..",
        "/media/coaches/.hidden.jpg",
        "/media/coaches/notes.txt",
        "/media/private/photo.jpg",
        "/media/coaches/missing.jpg",
        "/media/coaches/link.jpg",
    ],
)
def test_nothing_but_a_public_photo_is_served(
    client: Client, _media_root: Path, tmp_path: Path, path: str
) -> None:
    (_media_root / "coaches").mkdir(parents=True)
    (_media_root / "private").mkdir()
    (_media_root / "coaches" / "notes.txt").write_text("secret")
    (_media_root / "coaches" / ".hidden.jpg").write_bytes(phone_jpeg())
    (_media_root / "private" / "photo.jpg").write_bytes(phone_jpeg())
    (tmp_path / "outside.jpg").write_bytes(phone_jpeg())
    os.symlink(tmp_path / "outside.jpg", _media_root / "coaches" / "link.jpg")
    (_media_root / "coaches" / "0123abcd.jpg").write_bytes(phone_jpeg())
    assert client.get("/media/coaches/0123abcd.jpg").status_code == HTTPStatus.OK  # the one that is

    response = client.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_photo_is_served_when_debug_is_off_from_the_start(tmp_path: Path) -> None:
    """In a process whose settings load with DJANGO_DEBUG=false, as gunicorn's do in production."""
    media = tmp_path / "media"
    (media / "coaches").mkdir(parents=True)
    (media / "coaches" / "0123abcd.jpg").write_bytes(phone_jpeg())
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.conf import settings
        from django.test import Client
        assert settings.DEBUG is False
        response = Client().get("/media/coaches/0123abcd.jpg", secure=True)
        print(response.status_code, response["Content-Type"])
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "a-test-key-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(media),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "image/jpeg"]


def test_photos_stored_before_re_encoding_are_re_encoded_by_a_command(
    coach: Coach, _media_root: Path, django_capture_on_commit_callbacks
) -> None:
    (_media_root / "coaches").mkdir(parents=True)
    (_media_root / "coaches" / "me.jpg").write_bytes(phone_jpeg())
    Coach.objects.filter(pk=coach.pk).update(photo="coaches/me.jpg")
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reencode_photos", stdout=out)

    assert "1 photo(s) re-encoded, 0 skipped." in out.getvalue()
    data = stored_bytes(coach)
    assert coach.photo.name != "coaches/me.jpg"
    assert b"Exif" not in data
    assert not (_media_root / "coaches" / "me.jpg").exists()
