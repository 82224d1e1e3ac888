"""Start-up checks: a wrong configuration stops Orthanc with a clear message."""

import os
import re
import tempfile
import unittest

import orthanc_harness as h

EXIT_TIMEOUT = 20.0


class ConfigurationTest(unittest.TestCase):

    def start_expect_failure(self, name, extra_config=None, admin_password=h.DEFAULT_ADMIN_PASSWORD,
                             before_start=None):
        """Launch Orthanc, expect it to exit non-zero within EXIT_TIMEOUT;
        return (site, log). The site is closed by the test's cleanup."""
        site = h.OrthancSite(name, extra_config=extra_config, admin_password=admin_password)
        self.addCleanup(site.close)
        if before_start:
            before_start(site)
        site.launch()
        code = site.wait_exit(EXIT_TIMEOUT)
        log = site.run_log_text()
        if code is None:
            alive = ""
            try:
                alive = " (HTTP: %s)" % (site.readiness_probe(),)
            except Exception as e:
                alive = " (HTTP: %r)" % e
            self.fail("Orthanc still running after %.0f s%s; log tail:\n%s" % (EXIT_TIMEOUT, alive, log[-3000:]))
        self.assertNotEqual(code, 0, "Orthanc exited with 0; log tail:\n" + log[-3000:])
        return site, log

    def test_first_start_in_folders_that_do_not_exist_yet(self):
        # Orthanc loads plugins before it creates its storage folders: on a
        # brand-new server the plugin must create the database's folder itself.
        root = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-config-fresh-"))
        missing = os.path.join(root, "not", "yet", "there")
        with h.OrthancSite("config-fresh", extra_config={"StorageDirectory": missing,
                                                          "IndexDirectory": missing}) as site:
            r = site.admin.get(site.url + "/bridge/system", timeout=30)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["database"]["path"], os.path.join(missing, "hospitalbridge.db"))
            self.assertTrue(os.path.isfile(os.path.join(missing, "hospitalbridge.db")))

    def test_valid_configuration_starts(self):
        # control: the same harness configuration without a mistake works
        with h.OrthancSite("config-ok") as site:
            r = site.admin.get(site.url + "/bridge/system", timeout=30)
            self.assertEqual(r.status_code, 200)
            body = r.json()
            self.assertEqual(body["plugin"]["name"], "HospitalBridge")
            self.assertEqual(body["site"], {"id": "HOS-001", "name": "General Hospital"})
            self.assertEqual(body["database"]["status"], "ok")
            self.assertEqual(os.path.realpath(body["database"]["path"]), os.path.realpath(site.database_path))
            self.assertTrue(os.path.exists(site.database_path))
            for module in ("StudyIndex", "WebApp", "Security"):
                self.assertIs(body["modules"].get(module), True, module)
            self.assertEqual(body["orthanc"]["dicom_aet"], site.aet)
            self.assertEqual(body["user"], {"username": h.ADMIN_USER, "role": "admin"})

    def test_wrong_type_names_option(self):
        _, log = self.start_expect_failure("config-type", {"HospitalBridge": {"StudyIndex": {"MaxPageSize": "many"}}})
        self.assertIn("HospitalBridge.StudyIndex.MaxPageSize", log)

    def test_unknown_option_names_option(self):
        _, log = self.start_expect_failure("config-unknown", {"HospitalBridge": {"Securty": {}}})
        self.assertIn("HospitalBridge.Securty", log)

    def test_unknown_nested_option_names_option(self):
        _, log = self.start_expect_failure(
            "config-nested", {"HospitalBridge": {"Security": {"LoginThrottle": {"MaxFailuresPerUsr": 3}}}})
        self.assertIn("HospitalBridge.Security.LoginThrottle.MaxFailuresPerUsr", log)

    def test_out_of_range_names_option(self):
        _, log = self.start_expect_failure(
            "config-range", {"HospitalBridge": {"Security": {"PasswordHashIterations": 1000}}})
        self.assertIn("HospitalBridge.Security.PasswordHashIterations", log)

    def test_bad_site_id_names_option(self):
        _, log = self.start_expect_failure("config-siteid",
                                           {"HospitalBridge": {"Site": {"Id": "has space/slash"}}})
        self.assertIn("HospitalBridge.Site.Id", log)

    def test_remote_access_without_admin_password_refused(self):
        _, log = self.start_expect_failure("config-remote", {"RemoteAccessAllowed": True}, admin_password=None)
        lines = [l for l in log.splitlines() if re.search(r"password", l, re.I)
                 and re.search(r"HOSPITALBRIDGE_ADMIN_PASSWORD|admin|PasswordFile", l, re.I)]
        self.assertTrue(lines, "no message about the admin password; log tail:\n" + log[-3000:])

    def test_corrupt_database_refused_and_left_untouched(self):
        garbage = b"This is not an SQLite database, it is garbage.\x00\xff\xfe" * 200
        state = {}

        def corrupt(site):
            with open(site.database_path, "wb") as f:
                f.write(garbage)
            st = os.stat(site.database_path)
            state["mtime"] = st.st_mtime_ns
            state["ino"] = st.st_ino
            state["dir"] = sorted(os.listdir(os.path.dirname(site.database_path)))

        site, log = self.start_expect_failure("config-corrupt", before_start=corrupt)
        self.assertRegex(log, r"(?i)database", "no message about the database")
        self.assertTrue(re.search(re.escape(site.database_path), log) or
                        re.search(r"(?i)hospitalbridge\.db", log),
                        "message does not say which database file; log tail:\n" + log[-3000:])
        with open(site.database_path, "rb") as f:
            self.assertEqual(f.read(), garbage, "the corrupt database file was modified or recreated")
        st = os.stat(site.database_path)
        self.assertEqual(st.st_ino, state["ino"], "database file was replaced")
        self.assertEqual(st.st_mtime_ns, state["mtime"], "database file was written")
        leftovers = [f for f in os.listdir(os.path.dirname(site.database_path))
                     if f.startswith("hospitalbridge.db") and f not in state["dir"] and
                     os.path.getsize(os.path.join(os.path.dirname(site.database_path), f)) > 0]
        self.assertEqual(leftovers, [], "new non-empty database side files created")


if __name__ == "__main__":
    unittest.main()
