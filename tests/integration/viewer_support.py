"""What the viewer's test and benchmark share: an Orthanc with Debian's DICOMweb plugin
(orthanc-dicomweb) beside HospitalBridge, a generated CT series, and the check that a
viewport of OHIF drew an image."""

import os

import orthanc_harness as h
from pydicom.uid import generate_uid

DICOMWEB_PLUGIN = os.environ.get("HB_DICOMWEB_PLUGIN", "/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
VIEWER_DIR = os.path.join(os.path.dirname(h.PLUGIN), "viewer", "ohif")


def dicomweb_config(plugin=True):
    """orthanc.json additions: the DICOMweb plugin at its default roots (the ones
    HospitalBridge's gate admits and audits)."""
    plugins = ([h.PLUGIN] if plugin else []) + [DICOMWEB_PLUGIN]
    return {"Plugins": plugins,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True, "WadoRoot": "/wado",
                         "Ssl": False}}


def make_ct_series(folder, count, scale=1, **tags):
    """`count` CT slices of one new study and series, from pydicom's CT_small.dcm
    (128x128, 16 bits; `scale` 4 makes them 512x512 like a real CT), 2.5 mm apart.
    Returns (study_uid, [paths])."""
    import pydicom
    src = pydicom.dcmread(h.sample("CT_small.dcm"))
    if scale > 1:
        import numpy
        pixels = numpy.kron(src.pixel_array, numpy.ones((scale, scale), dtype=src.pixel_array.dtype))
        src.PixelData = pixels.tobytes()
        src.Rows, src.Columns = pixels.shape
        spacing = [float(x) / scale for x in src.PixelSpacing]
        src.PixelSpacing = spacing
    study_uid, series_uid = generate_uid(), generate_uid()
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        ds = src.copy()
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        x, y, _ = [float(v) for v in src.ImagePositionPatient]
        ds.ImagePositionPatient = [x, y, 2.5 * i]
        ds.SliceLocation = 2.5 * i
        ds.SliceThickness = 2.5
        for key, value in tags.items():
            setattr(ds, key, value)
        path = os.path.join(folder, "ct-%04d.dcm" % i)
        ds.save_as(path, write_like_original=False)
        paths.append(path)
    return study_uid, paths


# How many pixels of the largest image canvas on the page are not black (0 when
# none has drawn yet). Cornerstone draws each viewport into a 2D canvas; OHIF's
# overlays (patient name, window values) are HTML above it, so only the image counts.
DRAWN_PIXELS_JS = r"""
(function () {
  var best = 0;
  var canvases = document.querySelectorAll('canvas.cornerstone-canvas');
  for (var k = 0; k < canvases.length; k++) {
    var c = canvases[k];
    if (c.width < 64 || c.height < 64) continue;
    var ctx = null;
    try { ctx = c.getContext('2d', { willReadFrequently: true }); } catch (e) { ctx = null; }
    if (!ctx) continue;
    var data;
    try { data = ctx.getImageData(0, 0, c.width, c.height).data; } catch (e) { continue; }
    var lit = 0;
    for (var i = 0; i < data.length; i += 4 * 3) {
      if (data[i] > 24 || data[i + 1] > 24 || data[i + 2] > 24) lit++;
    }
    if (lit > best) best = lit;
  }
  return best;
})()
"""
