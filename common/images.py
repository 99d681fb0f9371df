"""Uploaded photos, re-encoded: upright, no metadata, at most 1024 px, JPEG or PNG.

A photo straight from a phone carries EXIF (the GPS position where it was taken, the
device, the time) and XMP; ``reencode_photo`` decodes the pixels and writes a new file
from them alone, so none of it is kept. The EXIF orientation is applied first, colours
are converted to sRGB when the file names another profile, and the picture is scaled
down to ``MAX_PHOTO_SIDE``. Images with transparency stay PNG, the rest become JPEG.

The pixel count is checked from the header before anything is decoded: a small file can
declare a huge image (a decompression bomb) and would take gigabytes to decode.
``PhotoField`` is the model field whose form field does all of this in ``to_python``, so
every form that edits the field (the dashboard's, the admin's) answers a bad upload with
a form error, never a 500.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_SIDE = 1024
MAX_PHOTO_PIXELS = 40_000_000  # 40 megapixels: any phone photo, not a bomb
MAX_PHOTO_BYTES = 5 * 1024 * 1024
JPEG_QUALITY = 85
# What Pillow may decode: the formats browsers send for photos (MPO is a phone's JPEG).
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF"})

INVALID_IMAGE = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."


def _too_many_pixels(width: int, height: int) -> ValidationError:
    return ValidationError(
        "This image is %(width)s × %(height)s pixels, more than we can take (%(limit)s megapixels). "
        "Please pick a smaller one.",
        code="too_many_pixels",
        params={"width": width, "height": height, "limit": MAX_PHOTO_PIXELS // 1_000_000},
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)


def _to_srgb(image: Image.Image) -> Image.Image:
    """``image`` in sRGB when it carries another colour profile (a phone's Display P3); else as it is."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in {"RGB", "RGBA"}:
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except Exception:  # a broken profile or no littlecms: the pixels as they are
        return image


def reencode_photo(data: bytes) -> tuple[bytes, str]:
    """``(bytes, extension)`` of the photo in ``data`` re-encoded; ValidationError if it is not one.

    The result holds pixels only: no EXIF, XMP, ICC profile or text chunks.
    """
    try:
        # Only the decoders of ACCEPTED_FORMATS ever see the bytes (a JPEG with several
        # pictures opens as MPO through the JPEG decoder).
        with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS - {"MPO"})) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(INVALID_IMAGE, code="invalid_image")
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise _too_many_pixels(width, height)
            # A JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the target.
            image.draft("RGB", (MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            image.seek(0)  # the first frame of an animation
            upright = ImageOps.exif_transpose(image)
            alpha = _has_alpha(upright)
            converted = _to_srgb(upright.convert("RGBA" if alpha else "RGB"))
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own limit (twice Image.MAX_IMAGE_PIXELS), checked when the file is opened.
        raise ValidationError(
            "This image has more pixels than we can take. Please pick a smaller one.", code="too_many_pixels"
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ValidationError(INVALID_IMAGE, code="invalid_image") from exc
    converted.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
    # A fresh image from the pixels alone: nothing of the upload's info (EXIF, XMP, ICC,
    # comments) can ride along into the file we write.
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)
    out = io.BytesIO()
    if alpha:
        clean.save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), "jpg"


class PhotoFormField(forms.ImageField):
    """An image upload that comes out re-encoded (``reencode_photo``), named ``photo.jpg``/``.png``."""

    default_error_messages = {
        "too_large": "This photo is larger than 5 MB. Please pick a smaller one.",
    }

    def to_python(self, data: Any) -> Any:
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        upload.seek(0)
        content, extension = reencode_photo(upload.read())
        return SimpleUploadedFile(
            f"photo.{extension}", content, content_type="image/png" if extension == "png" else "image/jpeg"
        )


class PhotoField(models.ImageField):
    """An ``ImageField`` whose uploads are re-encoded by its form field (``PhotoFormField``)."""

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": PhotoFormField, **kwargs})
