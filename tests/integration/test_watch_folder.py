"""Watch folder (issue 4): a scanner's PC writes DICOM files into a folder,
the plugin imports every file that has stopped growing, then moves it to a
processed folder (or deletes it); a file Orthanc does not take goes to a
failed folder with a reason file beside it. No file is ever lost, and a
restart resumes.

One site with two watched folders:
  - "move":   in/      -> processed/     | failed/
  - "delete": in-del/  -> (deleted)      | failed-del/
ScanIntervalMs is short and SettleMs long enough that a file written in two
halves one second apart is not taken in between.
"""

import os
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h

SCAN_MS = 200
SETTLE_MS = 2500
IMPORT_TIMEOUT = 40


def all_files(folder):
    """Every regular file under folder (recursively), as paths."""
    out = []
    for root, _, files in os.walk(folder):
        for f in files:
            out.append(os.path.join(root, f))
    return sorted(out)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files_with_content(folder, data):
    return [p for p in all_files(folder) if os.path.getsize(p) == len(data) and read(p) == data]


class WatchFolderTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-watch-files-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.work = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-watch-dirs-"))
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        d = {k: os.path.join(cls.work, k) for k in ("in", "processed", "failed", "in-del", "processed-del",
                                                    "failed-del")}
        for p in d.values():
            os.makedirs(p)
        cls.dirs = d
        cls.site = h.OrthancSite("watch", extra_config={"HospitalBridge": {"WatchFolders": {
            "Folders": [
                {"Path": d["in"], "ProcessedPath": d["processed"], "FailedPath": d["failed"],
                 "AfterImport": "move"},
                {"Path": d["in-del"], "ProcessedPath": d["processed-del"], "FailedPath": d["failed-del"],
                 "AfterImport": "delete"},
            ],
            "ScanIntervalMs": SCAN_MS,
            "SettleMs": SETTLE_MS,
        }}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.counter = 0

    # -- helpers ----------------------------------------------------------------

    def new_dicom(self, label, **tags):
        """Bytes of a fresh DICOM instance and its SOP Instance UID."""
        type(self).counter += 1
        path = os.path.join(self.tmp, "%s-%d.dcm" % (label, self.counter))
        h.make_variant(h.sample("CT_small.dcm"), path, PatientID="WATCH-%d" % self.counter, **tags)
        return read(path), h.expected_study(path)

    def in_orthanc(self, sop_uid):
        r = self.site.admin.post(self.site.url + "/tools/lookup", data=sop_uid, timeout=30)
        r.raise_for_status()
        ids = [x["ID"] for x in r.json() if x.get("Type") == "Instance"]
        return ids[0] if ids else None

    def write(self, folder, name, data):
        """Write a file the way a scanner does: under its final name, at once."""
        path = os.path.join(self.dirs[folder], name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def watch_status(self):
        r = self.site.admin.get(self.site.url + "/bridge/system", timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        wf = r.json().get("watch_folders")
        self.assertIsNotNone(wf, "no watch_folders in /bridge/system")
        return wf

    def folder_status(self, folder):
        path = self.dirs[folder]
        for f in self.watch_status()["folders"]:
            if os.path.realpath(f["path"]) == os.path.realpath(path):
                return f
        self.fail("folder %s not in /bridge/system watch_folders" % path)

    def wait_gone(self, path, timeout=IMPORT_TIMEOUT):
        h.wait_until(lambda: not os.path.exists(path), timeout, interval=0.2,
                     message="%s was never taken from the watch folder (log tail: %s)"
                     % (path, self.site.run_log_text()[-1500:]))

    def wait_imported(self, folder, name, data, sop_uid):
        """The file leaves `folder` for processed/ (same bytes) and the
        instance is in Orthanc."""
        src = os.path.join(self.dirs[folder], name)
        self.wait_gone(src)
        h.wait_until(lambda: self.in_orthanc(sop_uid), 20, message="instance of %s not in Orthanc" % name)
        self.assertEqual(files_with_content(self.dirs["failed"], data), [], "%s went to failed/" % name)

    # -- tests ----------------------------------------------------------------

    def test_file_still_being_written_waits(self):
        data, st = self.new_dicom("partial")
        self.assertGreater(len(data), 2000)
        path = os.path.join(self.dirs["in"], "partial.dcm")
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(min(1.0, SETTLE_MS / 2500.0))  # several scans, less than SettleMs
            self.assertTrue(os.path.exists(path), "half-written file taken from the folder")
            self.assertEqual(os.path.getsize(path), len(data) // 2)
            self.assertIsNone(self.in_orthanc(st["sop_uid"]))
            self.assertEqual([p for p in all_files(self.dirs["failed"]) if "partial" in os.path.basename(p)],
                             [], "the half-written file was judged a failure")
            self.assertGreaterEqual(self.folder_status("in")["waiting"], 1, "the growing file is not 'waiting'")
            f.write(data[len(data) // 2:])
        self.wait_imported("in", "partial.dcm", data, st["sop_uid"])
        moved = files_with_content(self.dirs["processed"], data)
        self.assertEqual(len(moved), 1, "processed/ holds %r" % all_files(self.dirs["processed"]))
        self.assertIn("partial", os.path.basename(moved[0]), "the processed file lost its name: %s" % moved[0])
        self.site.wait_indexed(st["study_uid"], timeout=30)

    def test_text_file_goes_to_failed_with_reason(self):
        text = b"This is not DICOM: the scanner's log file.\n" * 20
        src = self.write("in", "scanner-log.txt", text)
        self.wait_gone(src)
        failed = files_with_content(self.dirs["failed"], text)
        self.assertEqual(len(failed), 1, "failed/ holds %r" % all_files(self.dirs["failed"]))
        reason = failed[0] + ".reason.txt"
        self.assertTrue(os.path.exists(reason), "no reason file beside %s: %r"
                        % (failed[0], all_files(self.dirs["failed"])))
        self.assertGreater(len(read(reason).strip()), 5, "empty reason file")
        # what a technician reads: Orthanc refused it, and why
        self.assertIn(b"Orthanc refused the file", read(reason))
        self.assertIn(b"no DICOM file header", read(reason))
        self.assertEqual(files_with_content(self.dirs["processed"], text), [])
        # a non-DICOM file with a .dcm name: same
        junk = b"\x00\x01garbage" * 100
        src = self.write("in", "broken.dcm", junk)
        self.wait_gone(src)
        failed = files_with_content(self.dirs["failed"], junk)
        self.assertEqual(len(failed), 1, "failed/ holds %r" % all_files(self.dirs["failed"]))
        self.assertTrue(os.path.exists(failed[0] + ".reason.txt"))

    def test_duplicate_goes_to_processed_without_overwriting(self):
        data, st = self.new_dicom("dup")
        src = self.write("in", "same-name.dcm", data)
        self.wait_imported("in", "same-name.dcm", data, st["sop_uid"])
        self.assertEqual(len(files_with_content(self.dirs["processed"], data)), 1)
        before = self.folder_status("in")
        # the same file again, under the same name
        src = self.write("in", "same-name.dcm", data)
        self.wait_gone(src)
        time.sleep(0.5)
        kept = files_with_content(self.dirs["processed"], data)
        self.assertEqual(len(kept), 2, "the duplicate overwrote or lost a file; processed/ holds %r"
                         % all_files(self.dirs["processed"]))
        self.assertEqual(files_with_content(self.dirs["failed"], data), [], "a duplicate is not a failure")
        after = h.wait_until(lambda: (lambda s: s if s["duplicates"] > before["duplicates"] else None)(
            self.folder_status("in")), 10, message="duplicates counter did not grow")
        self.assertEqual(after["failed"], before["failed"])
        r = self.site.admin.get(self.site.url + "/studies/%s/instances" % self.site.orthanc_study_id(
            st["study_uid"]), timeout=30)
        self.assertEqual(len(r.json()), 1, "the duplicate created a second instance")

    def test_delete_mode(self):
        data, st = self.new_dicom("del")
        src = self.write("in-del", "to-delete.dcm", data)
        self.wait_gone(src)
        h.wait_until(lambda: self.in_orthanc(st["sop_uid"]), 20, message="deleted file not in Orthanc")
        self.assertEqual(files_with_content(self.dirs["processed-del"], data), [],
                         "AfterImport delete kept a copy in processed")
        self.assertEqual(files_with_content(self.dirs["failed-del"], data), [])
        self.site.wait_indexed(st["study_uid"], timeout=30)
        # a failure is never deleted, even in delete mode
        text = b"not dicom either\n" * 10
        src = self.write("in-del", "notes.txt", text)
        self.wait_gone(src)
        failed = files_with_content(self.dirs["failed-del"], text)
        self.assertEqual(len(failed), 1, "failed-del/ holds %r" % all_files(self.dirs["failed-del"]))
        self.assertTrue(os.path.exists(failed[0] + ".reason.txt"))
        status = self.folder_status("in-del")
        self.assertEqual(status["after_import"], "delete")
        self.assertGreaterEqual(status["imported"], 1)
        self.assertGreaterEqual(status["failed"], 1)

    def test_restart_resumes(self):
        data, st = self.new_dicom("restart")
        self.site.stop()
        try:
            self.write("in", "while-down.dcm", data)
        finally:
            self.site.start()
        self.wait_imported("in", "while-down.dcm", data, st["sop_uid"])
        self.assertEqual(len(files_with_content(self.dirs["processed"], data)), 1)

    def test_system_counts(self):
        wf = self.watch_status()
        self.assertTrue(wf["enabled"], wf)
        self.assertEqual(len(wf["folders"]), 2, wf)
        move = self.folder_status("in")
        self.assertEqual(os.path.realpath(move["processed_path"]), os.path.realpath(self.dirs["processed"]))
        self.assertEqual(os.path.realpath(move["failed_path"]), os.path.realpath(self.dirs["failed"]))
        self.assertEqual(move["after_import"], "move")
        for key in ("waiting", "imported", "duplicates", "failed"):
            self.assertIsInstance(move[key], int, "%s: %r" % (key, move))
        before = move
        data, st = self.new_dicom("count")
        self.write("in", "count-1.dcm", data)
        self.write("in", "count-2.dcm", data)          # a duplicate
        self.write("in", "count-3.bin", b"junk" * 50)  # a failure

        def settled():
            s = self.folder_status("in")
            ok = (s["imported"] + s["duplicates"] - before["imported"] - before["duplicates"] >= 2
                  and s["failed"] - before["failed"] >= 1 and s["waiting"] == 0)
            return s if ok else None
        after = h.wait_until(settled, IMPORT_TIMEOUT, interval=0.3, message="counters did not follow")
        self.assertIn(after["imported"] - before["imported"], (1, 2), (before, after))
        self.assertEqual(after["duplicates"] - before["duplicates"], 1, (before, after))
        self.assertEqual(after["failed"] - before["failed"], 1, (before, after))
        self.assertRegex(after["last_import"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(all_files(self.dirs["in"]), [], "files left in the watch folder")


if __name__ == "__main__":
    unittest.main()
