"""Images for vision requests, without a model: formats, EXIF values, broken EXIF, limits."""

from __future__ import annotations

import pytest
from fixtures.tiny_vlm import EXIF_EXPECTED

pytest.importorskip("PIL")
pytest.importorskip("exifread")

from mlxk_common.engine.exif import exif_block, exif_table
from mlxk_common.engine.images import decode, load_images
from mlxk_common.errors import MlxkError


def test_exif_values_from_a_camera_jpeg(vision_images):
    [image] = load_images([str(vision_images["blue.jpg"])])
    assert image.exif == EXIF_EXPECTED
    assert exif_block([image]) == ("[Image metadata]\nImage 1: file blue.jpg; taken 2024-06-01T12:34:56; "
                                   "GPS 48.8584, 2.2945; camera Canon EOS R5\n\n")
    [off] = load_images([str(vision_images["blue.jpg"])], exif=False)
    assert off.exif is None and exif_table([off]) == ""


def test_southern_western_gps_and_offset(tmp_path):
    from PIL import ExifTags, Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2023:12:31 23:59:58"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "-03:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (IFDRational(22), IFDRational(57), IFDRational(0))
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(43), IFDRational(12), IFDRational(36))
    path = tmp_path / "rio.jpg"
    Image.new("RGB", (32, 32)).save(path, exif=exif.tobytes())
    [image] = load_images([str(path)])
    assert image.exif == {"datetime": "2023-12-31T23:59:58-03:00", "latitude": -22.95, "longitude": -43.21,
                          "camera_make": None, "camera_model": None}
    assert "📍 22.9500°S, 43.2100°W | 📅 2023-12-31 | - |" in exif_table([image])


def test_broken_exif_is_null_not_an_error(vision_images):
    data = bytearray(vision_images["blue.jpg"].read_bytes())
    at = data.find(b"Exif\0\0")
    assert at > 0
    data[at + 6:at + 40] = b"\xff" * 34  # the TIFF header and first IFD, garbled
    image = decode("broken.jpg", bytes(data))
    assert image.exif is None and image.width == 64


def test_heic_with_exif(tmp_path, vision_images):
    pillow_heif = pytest.importorskip("pillow_heif")
    from PIL import Image

    pillow_heif.register_heif_opener()
    source = Image.open(vision_images["blue.jpg"])
    path = tmp_path / "blue.heic"
    source.save(path, exif=source.getexif().tobytes())
    [image] = load_images([str(path)])
    assert image.format in ("HEIF", "HEIC") and image.exif == EXIF_EXPECTED


def test_orientation_is_applied(tmp_path):
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotated 90°: a 40x20 sensor image shows as 20x40
    path = tmp_path / "rotated.jpg"
    Image.new("RGB", (40, 20)).save(path, exif=exif.tobytes())
    [image] = load_images([str(path)])
    assert (image.width, image.height) == (20, 40)


def test_stdin_twice_and_limits(vision_images):
    with pytest.raises(MlxkError) as err:
        load_images(["-", "-"])
    assert err.value.type == "usage_error"
    with pytest.raises(MlxkError) as err:
        load_images([str(vision_images["noise.bmp"])], max_image=1000)
    assert err.value.type == "invalid_image" and err.value.details["reason"] == "too_large"
