#!/usr/bin/env python3
"""Generate a deterministic set of synthetic CT DICOM files for the ingest benchmark.

Layout (default 1000 instances): 10 patients x 2 studies x 1 series x 50 instances.
Each file is CT Image Storage, 256x256, 16-bit unsigned, explicit VR little endian,
with a proper file meta header and a synthetic "phantom" image (a body ellipse with a
few inserts, shifted a little from slice to slice so no two slices are identical).

All UIDs are derived from --seed, so the same seed always gives the same files.

Usage:  python3 generate.py OUTDIR [--instances N] [--seed S]
Needs pydicom (Debian: python3-pydicom). No numpy needed.
"""

import argparse
import array
import datetime
import math
import os
import sys
import time

try:
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
except ImportError:  # pragma: no cover - reported to the caller
    pydicom = None

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ROWS = COLS = 256
INSTANCES_PER_SERIES = 50
STUDIES_PER_PATIENT = 2

FIRST_NAMES = ["JOHN", "MARY", "AHMED", "LENA", "PIERRE", "YUKI", "CARLOS", "AMINA",
               "OLGA", "DAVID", "SOFIA", "KWAME", "INGRID", "RAJ", "CHLOE", "MATEO"]
LAST_NAMES = ["DOE", "SMITH", "BENALI", "MULLER", "DUPONT", "TANAKA", "GARCIA", "OKAFOR",
              "IVANOVA", "COHEN", "ROSSI", "MENSAH", "LARSEN", "PATEL", "MARTIN", "LOPEZ"]
BODY_PARTS = [("CHEST", "CT THORAX W CONTRAST"), ("ABDOMEN", "CT ABDOMEN PELVIS"),
              ("HEAD", "CT HEAD WO CONTRAST"), ("CHEST", "CT CHEST LOW DOSE")]


def layout(n):
    """Return the list of (patient, study, instance_in_series) triples for n instances."""
    per_patient = STUDIES_PER_PATIENT * INSTANCES_PER_SERIES
    out = []
    for k in range(n):
        p, rest = divmod(k, per_patient)
        s, i = divmod(rest, INSTANCES_PER_SERIES)
        out.append((p, s, i))
    return out


def count_studies(n):
    """Number of distinct studies that generate(n) produces."""
    return len({(p, s) for p, s, _ in layout(n)})


def count_patients(n):
    return len({p for p, _, _ in layout(n)})


def _phantom():
    """A 256x256 uint16 'CT phantom' (stored value = HU + 1024), as a list of rows (bytes)."""
    rows = []
    cx, cy = COLS / 2.0, ROWS / 2.0
    inserts = [(-50, -30, 18, 1024 + 60),    # soft tissue
               (45, -25, 14, 1024 + 700),    # bone-like
               (0, 50, 22, 1024 - 800),      # lung-like
               (-20, 20, 8, 1024 + 300)]     # contrast
    for y in range(ROWS):
        row = array.array("H", [0] * COLS)
        for x in range(COLS):
            dx, dy = x - cx, y - cy
            if (dx / 110.0) ** 2 + (dy / 85.0) ** 2 <= 1.0:
                v = 1024 + 40 + int(10 * math.sin(x / 7.0) * math.cos(y / 9.0))
                for ix, iy, r, val in inserts:
                    if (dx - ix) ** 2 + (dy - iy) ** 2 <= r * r:
                        v = val
                        break
            else:
                v = 0  # air: -1024 HU
            row[x] = v
        if sys.byteorder != "little":
            row.byteswap()
        rows.append(row.tobytes())
    return rows


def generate(outdir, n=1000, seed="hospitalbridge-bench", quiet=False):
    """Write n files into outdir. Returns the list of file paths."""
    if pydicom is None:
        raise RuntimeError("pydicom is not importable by %s (Debian: apt-get install python3-pydicom)"
                           % sys.executable)
    os.makedirs(outdir, exist_ok=True)
    base_rows = _phantom()
    seed = str(seed)
    uid_cache = {}

    def uid(*parts):
        key = parts
        if key not in uid_cache:
            uid_cache[key] = generate_uid(entropy_srcs=[seed] + [str(p) for p in parts])
        return uid_cache[key]

    base_date = datetime.date(2024, 3, 1)
    frame_of_ref = {}
    paths = []
    for k, (p, s, i) in enumerate(layout(n)):
        study_uid = uid("study", p, s)
        series_uid = uid("series", p, s, 0)
        sop_uid = uid("instance", p, s, 0, i)
        if (p, s) not in frame_of_ref:
            frame_of_ref[(p, s)] = uid("for", p, s)
        body_part, description = BODY_PARTS[(p + s) % len(BODY_PARTS)]
        study_date = base_date + datetime.timedelta(days=37 * p + 11 * s)
        study_time = "%02d%02d%02d" % (8 + (p * 3 + s) % 10, (p * 7 + s * 13) % 60, (p * 11) % 60)

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
        meta.ImplementationVersionName = "HB_BENCH_1"

        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop_uid
        ds.StudyDate = study_date.strftime("%Y%m%d")
        ds.SeriesDate = ds.StudyDate
        ds.ContentDate = ds.StudyDate
        ds.StudyTime = study_time
        ds.SeriesTime = study_time
        ds.ContentTime = study_time
        ds.AccessionNumber = "ACC%05d%d" % (p, s)
        ds.Modality = "CT"
        ds.Manufacturer = "HospitalBridge Bench"
        ds.InstitutionName = "General Hospital"
        ds.ReferringPhysicianName = "HOUSE^GREGORY"
        ds.StationName = "CT01"
        ds.StudyDescription = description
        ds.SeriesDescription = "AXIAL 5.0 SOFT TISSUE"
        ds.ManufacturerModelName = "SYNTH-CT"
        ds.PatientName = "%s^%s" % (LAST_NAMES[p % len(LAST_NAMES)], FIRST_NAMES[(p * 5) % len(FIRST_NAMES)])
        ds.PatientID = "HB%06d" % (p + 1)
        ds.PatientBirthDate = "%04d%02d%02d" % (1940 + (p * 7) % 60, 1 + p % 12, 1 + (p * 3) % 28)
        ds.PatientSex = "MF"[p % 2]
        ds.BodyPartExamined = body_part
        ds.SliceThickness = "5.0"
        ds.KVP = "120"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.StudyID = "%d" % (s + 1)
        ds.SeriesNumber = 1
        ds.InstanceNumber = i + 1
        ds.AcquisitionNumber = 1
        z = -5.0 * i
        ds.ImagePositionPatient = ["-250.0", "-250.0", "%.1f" % z]
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.FrameOfReferenceUID = frame_of_ref[(p, s)]
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = "%.1f" % z
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ROWS
        ds.Columns = COLS
        ds.PixelSpacing = ["1.953125", "1.953125"]
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        # Shift the phantom vertically and horizontally a little per slice/study so every
        # image differs (cheap: rotate rows and bytes, no per-pixel Python work).
        shift = (i * 3 + s * 17 + p * 5) % ROWS
        rows = base_rows[shift:] + base_rows[:shift]
        hshift = 2 * ((i + p) % 32)
        ds.PixelData = b"".join(r[hshift:] + r[:hshift] for r in rows)

        path = os.path.join(outdir, "P%03d_S%d_I%04d.dcm" % (p, s, i))
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        pydicom.dcmwrite(path, ds, write_like_original=False)
        paths.append(path)
        if not quiet and (k + 1) % 250 == 0:
            print("  generated %d/%d" % (k + 1, n), flush=True)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--seed", default="hospitalbridge-bench")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.instances < 1:
        ap.error("--instances must be >= 1")
    t0 = time.monotonic()
    try:
        paths = generate(a.outdir, a.instances, a.seed, a.quiet)
    except RuntimeError as e:
        print("generate.py: %s" % e, file=sys.stderr)
        return 2
    dt = time.monotonic() - t0
    print("generated %d files (%d patients, %d studies) in %s in %.1f s"
          % (len(paths), count_patients(a.instances), count_studies(a.instances), a.outdir, dt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
