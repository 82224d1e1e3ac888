#!/usr/bin/python3
"""Writes the federation demo's DICOM files: copies of python3-pydicom's
sample images with new Study/Series/SOP Instance UIDs and the demo patients'
names, IDs, dates, descriptions and modalities.

    make-demo-data.py OUT_DIR      ->  OUT_DIR/hos-001/*.dcm, hos-002/, hos-003/

Run by start-demo.sh (once: it keeps the files, so a second start sends the
same UIDs and nothing is duplicated).
"""

import os
import shutil
import sys

import pydicom
from pydicom.uid import generate_uid

SAMPLES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")

# PatientID of 6-20 digits = national ID (see Registry.NationalId.Pattern).
THANDI = {"PatientID": "199012345678901234", "PatientName": "NKOSI^THANDI",
          "PatientBirthDate": "19901203", "PatientSex": "F"}
SIPHO = {"PatientID": "198507224455667788", "PatientName": "MOKOENA^SIPHO",
         "PatientBirthDate": "19850722", "PatientSex": "M"}
ANNA = {"PatientID": "197203150011223344", "PatientName": "VAN DER MERWE^ANNA",
        "PatientBirthDate": "19720315", "PatientSex": "F"}
# the same woman at St. Mary Clinic, registered under its hospital number
ANNA_AT_ST_MARY = dict(ANNA, PatientID="SMC-000731")
LERATO = {"PatientID": "200101019988776655", "PatientName": "DLAMINI^LERATO",
          "PatientBirthDate": "20010101", "PatientSex": "F"}

# (sites holding it, patient, date, time, description, accession, [(modality, instances)])
STUDIES = [
    (["hos-001"], THANDI, "20240110", "091500", "CT chest", "GH-24-0110", [("CT", 2)]),
    (["hos-002"], THANDI, "20240602", "143000", "MR brain", "SM-24-0602", [("MR", 1)]),
    (["hos-003"], THANDI, "20231120", "110000", "CR chest", "RI-23-1120", [("CR", 1)]),
    # sent from General Hospital to St. Mary Clinic: held at both
    (["hos-001", "hos-002"], THANDI, "20210505", "080000", "CT abdomen", "GH-21-0505", [("CT", 1)]),
    (["hos-002"], SIPHO, "20220808", "223000", "Trauma CT and MR", "SM-22-0808", [("CT", 2), ("MR", 1)]),
    (["hos-003"], SIPHO, "20230214", "100000", "MR knee", "RI-23-0214", [("MR", 1)]),
    (["hos-001"], ANNA, "20230301", "093000", "CT thorax", "GH-23-0301", [("CT", 1)]),
    (["hos-002"], ANNA_AT_ST_MARY, "20230415", "154500", "MR lumbar spine", "SM-23-0415", [("MR", 1)]),
    (["hos-003"], LERATO, "20240303", "120000", "MR pelvis", "RI-24-0303", [("MR", 1)]),
    (["hos-003"], LERATO, "20240909", "081500", "CT head", "RI-24-0909", [("CT", 1)]),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-demo-data.py OUT_DIR")
    out = sys.argv[1]
    for site in ("hos-001", "hos-002", "hos-003"):
        os.makedirs(os.path.join(out, site), exist_ok=True)
    n = 0
    for sites, patient, date, time, description, accession, series in STUDIES:
        study_uid = generate_uid()
        for modality, count in series:
            series_uid = generate_uid()
            source = os.path.join(SAMPLES, "MR_small.dcm" if modality == "MR" else "CT_small.dcm")
            for _ in range(count):
                ds = pydicom.dcmread(source)
                ds.StudyInstanceUID = study_uid
                ds.SeriesInstanceUID = series_uid
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                for keyword, value in patient.items():
                    setattr(ds, keyword, value)
                ds.StudyDate = ds.SeriesDate = date
                ds.StudyTime = ds.SeriesTime = time
                ds.StudyDescription = description
                ds.AccessionNumber = accession
                ds.Modality = modality
                ds.InstitutionName = ""
                n += 1
                first = os.path.join(out, sites[0], "%03d.dcm" % n)
                ds.save_as(first, write_like_original=True)
                for other in sites[1:]:
                    shutil.copyfile(first, os.path.join(out, other, "%03d.dcm" % n))


if __name__ == "__main__":
    main()
