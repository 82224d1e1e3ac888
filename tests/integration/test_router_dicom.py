"""The router's Orthanc-job destinations with real Orthancs: site A
(HospitalBridge) sends CT studies to site C over C-STORE (a stock Orthanc)
and to site B as an Orthanc peer (a stock Orthanc in A's "OrthancPeers").
B and C count every instance they receive, duplicates included, with a Lua
ReceivedInstanceFilter that appends its SOP Instance UID to a file (Orthanc
calls it for each instance received, before it looks whether it already has
it). What arrives is compared file by file (SOP Instance UIDs and SHA-256).

A killed with SIGKILL while a C-STORE job of a 200-instance study runs: after
the restart the router asks C (C-FIND at IMAGE level) what it has, and C
receives each instance once; the same to B as a peer (asked over its REST
API with A's OrthancPeers credentials). A destination with a sending window that
excludes now: the delivery waits, saying why and until when, and nothing
reaches C; a window that includes now: sent.

A runs with "SaveJobs": false, as the README asks for dicom and peer
destinations; HB_TEST_SAVE_JOBS=1 runs it with Orthanc's default instead, and
the SIGKILL test then fails: Orthanc resumes the router's store job by itself
and C receives instances twice."""

import datetime
import os
import re
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h
import router_harness as rh

COUNTER_LUA = """
function ReceivedInstanceFilter(dicom, origin, info)
  local f = io.open(%r, "a")
  f:write(dicom.SOPInstanceUID .. "\\n")
  f:close()
  return true
end
"""


def counting_site(name, tmp, extra=None):
    """A stock Orthanc whose received SOP Instance UIDs are appended to a file."""
    received = os.path.join(tmp, name + "-received.txt")
    open(received, "w").close()
    lua = os.path.join(tmp, name + "-counter.lua")
    with open(lua, "w") as f:
        f.write(COUNTER_LUA % received)
    site = h.OrthancSite(name, plugin=False, extra_config=h.deep_merge({"LuaScripts": [lua]}, extra or {}))
    site.received_path = received
    return site


def received(site):
    """SOP Instance UID -> times the site received it."""
    out = {}
    with open(site.received_path) as f:
        for line in f:
            sop = line.strip()
            if sop:
                out[sop] = out.get(sop, 0) + 1
    return out


def hhmm(minutes):
    minutes %= 24 * 60
    return "%02d:%02d" % (minutes // 60, minutes % 60)


class RouterDicomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-router-dicom-"))
        cls.a = h.OrthancSite("rdicom-a").allocate_ports()
        cls.addClassCleanup(cls.a.close)
        # C lets A query it (C-FIND): A is one of its modalities.
        cls.c = counting_site("rdicom-c", cls.tmp, {
            "DicomModalities": {"site-a": [cls.a.aet, "127.0.0.1", cls.a.dicom_port]}}).allocate_ports()
        cls.addClassCleanup(cls.c.close)
        cls.c.aet = "SITEC"
        cls.c.start()
        cls.b = counting_site("rdicom-b", cls.tmp).allocate_ports()
        cls.addClassCleanup(cls.b.close)
        cls.b.start()
        now = time.localtime()
        minute = now.tm_hour * 60 + now.tm_min
        cls.later_window = "%s-%s" % (hhmm(minute + 120), hhmm(minute + 180))
        cls.now_window = "%s-%s" % (hhmm(minute - 60), hhmm(minute + 60))
        cls.a.extra_config = {
            # As the README asks for dicom and peer destinations: Orthanc does
            # not resume the router's store jobs after a crash by itself.
            "SaveJobs": os.environ.get("HB_TEST_SAVE_JOBS") == "1",
            "DicomModalities": {"site-c": [cls.c.aet, "127.0.0.1", cls.c.dicom_port]},
            "OrthancPeers": {"site-b": {"Url": cls.b.url + "/"}},
            "HospitalBridge": {
                "Modules": {"Router": True},
                "Router": {
                    "Destinations": [
                        {"Name": "c-dicom", "Type": "dicom", "Target": "site-c", "BatchSize": 50},
                        {"Name": "b-peer", "Type": "peer", "Target": "site-b", "BatchSize": 5},
                        {"Name": "b-peer-50", "Type": "peer", "Target": "site-b", "BatchSize": 50},
                        {"Name": "c-later", "Type": "dicom", "Target": "site-c", "Schedule": cls.later_window},
                        {"Name": "c-now", "Type": "dicom", "Target": "site-c", "Schedule": cls.now_window},
                    ],
                    "Rules": [
                        {"Name": "big", "DescriptionPattern": "^CT BIG", "Destinations": ["c-dicom"]},
                        {"Name": "peer", "DescriptionPattern": "^CT PEER$", "Destinations": ["b-peer"]},
                        {"Name": "peer-big", "DescriptionPattern": "^CT PEER BIG", "Destinations": ["b-peer-50"]},
                        {"Name": "later", "DescriptionPattern": "^CT LATER", "Destinations": ["c-later"]},
                        {"Name": "now", "DescriptionPattern": "^CT NOW", "Destinations": ["c-now"]},
                    ],
                    "Retry": {"MinDelaySeconds": 1, "MaxDelaySeconds": 2, "MaxAttempts": 100},
                },
            },
        }
        cls.a.start()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def folder(self):
        return tempfile.mkdtemp(dir=self.tmp)

    def test_counter_sees_duplicates(self):
        # The evidence the other tests rely on: C counts an instance it
        # already has when it receives it again (and answers success).
        study = rh.CtStudy(self.folder(), 1, accession="ACC-DUP", description="DUPLICATE CHECK", modality="OT")
        with open(study.files[0], "rb") as f:
            body = f.read()
        for _ in range(2):
            r = self.c.admin.post(self.c.url + "/instances", data=body, timeout=30)
            self.assertEqual(200, r.status_code, r.text)
        self.assertEqual(2, received(self.c)[study.sops[0]])

    def test_sigkill_during_a_cstore_job_sends_nothing_twice(self):
        study = rh.CtStudy(self.folder(), 200, accession="ACC-CSTORE-200", description="CT BIG")
        t0 = time.monotonic()
        self.a.storescu(study.files, calling_aet="CT01")

        def partly_at_c():
            n = sum(1 for s in study.sops if s in received(self.c))
            return n if 20 <= n < 170 else None
        at_kill = h.wait_until(partly_at_c, 120, interval=0.02, message="the C-STORE delivery never was under way")
        self.a.process.kill()  # SIGKILL while Orthanc's store job runs
        self.a.process.wait(timeout=10)
        self.a.stop()
        self.a.start()
        delivered = rh.wait_delivery(self.a, study.uid, "c-dicom", ["delivered"], timeout=180)
        print("\n  200 instances over C-STORE with a SIGKILL after %d at C: delivered %.1f s after the "
              "storescu began (attempts %d)" % (at_kill, time.monotonic() - t0, delivered["attempts"]))
        at_a = rh.instances_at(self.a, study.uid)
        self.assertEqual(set(study.sops), set(at_a))
        self.assertEqual(at_a, rh.instances_at(self.c, study.uid))
        self.assertEqual(200, delivered["instances_confirmed"])
        counts = received(self.c)
        twice = sorted(s for s in study.sops if counts.get(s, 0) != 1)
        self.assertEqual([], twice, "C received %d instances other than once" % len(twice))
        # The router asked C (C-FIND) and found there instances the crash left
        # unconfirmed: the delivered note says how many.
        found = re.search(r"\((\d+) of those not confirmed before were there already\)", delivered["reason"])
        self.assertTrue(found, delivered["reason"])
        self.assertGreater(int(found.group(1)), 0, delivered["reason"])
        system = self.a.admin.get(self.a.url + "/bridge/system", timeout=30).json()
        self.assertEqual([], system["router"]["warnings"])

    def test_sigkill_during_a_peer_job_sends_nothing_twice(self):
        study = rh.CtStudy(self.folder(), 200, accession="ACC-PEER-200", description="CT PEER BIG")
        self.a.storescu(study.files, calling_aet="CT01")

        def partly_at_b():
            n = sum(1 for s in study.sops if s in received(self.b))
            return n if 20 <= n < 170 else None
        at_kill = h.wait_until(partly_at_b, 120, interval=0.02, message="the peer delivery never was under way")
        self.a.process.kill()  # SIGKILL while Orthanc's peer store job runs
        self.a.process.wait(timeout=10)
        self.a.stop()
        self.a.start()
        delivered = rh.wait_delivery(self.a, study.uid, "b-peer-50", ["delivered"], timeout=180)
        print("\n  200 instances to an Orthanc peer with a SIGKILL after %d at B (attempts %d)"
              % (at_kill, delivered["attempts"]))
        at_a = rh.instances_at(self.a, study.uid)
        self.assertEqual(set(study.sops), set(at_a))
        self.assertEqual(at_a, rh.instances_at(self.b, study.uid))
        counts = received(self.b)
        twice = sorted(s for s in study.sops if counts.get(s, 0) != 1)
        self.assertEqual([], twice, "B received %d instances other than once" % len(twice))
        # The router asked B over its REST API and found instances there.
        found = re.search(r"\((\d+) of those not confirmed before were there already\)", delivered["reason"])
        self.assertTrue(found, delivered["reason"])
        self.assertGreater(int(found.group(1)), 0, delivered["reason"])

    def test_orthanc_peer_receives_the_study_identical_once(self):
        study = rh.CtStudy(self.folder(), 12, accession="ACC-PEER", description="CT PEER")
        self.a.storescu(study.files, calling_aet="CT01")
        delivered = rh.wait_delivery(self.a, study.uid, "b-peer", ["delivered"], timeout=90)
        self.assertEqual(12, delivered["instances_confirmed"])
        self.assertEqual(1, delivered["attempts"])
        at_a = rh.instances_at(self.a, study.uid)
        self.assertEqual(set(study.sops), set(at_a))
        self.assertEqual(at_a, rh.instances_at(self.b, study.uid))
        counts = received(self.b)
        self.assertEqual({s: 1 for s in study.sops}, {s: counts.get(s, 0) for s in study.sops})

    def test_off_hours_waits_visibly_and_in_hours_sends(self):
        later = rh.CtStudy(self.folder(), 2, accession="ACC-LATER", description="CT LATER")
        now = rh.CtStudy(self.folder(), 2, accession="ACC-NOW", description="CT NOW")
        self.a.storescu(later.files + now.files, calling_aet="CT01")
        sent = rh.wait_delivery(self.a, now.uid, "c-now", ["delivered"], timeout=90)
        self.assertEqual(2, sent["instances_confirmed"])
        self.assertEqual(rh.instances_at(self.a, now.uid), rh.instances_at(self.c, now.uid))

        waiting = rh.wait_delivery(self.a, later.uid, "c-later", ["waiting"], timeout=60)
        self.assertEqual("outside the sending hours " + self.later_window, waiting["reason"])
        self.assertEqual(0, waiting["attempts"])
        # Next attempt: when the window opens (local time), within the next 2 hours.
        opens = datetime.datetime.strptime(waiting["next_attempt_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=datetime.timezone.utc).astimezone()
        self.assertEqual(self.later_window[:5], opens.strftime("%H:%M"))
        self.assertLess(opens - datetime.datetime.now(datetime.timezone.utc), datetime.timedelta(hours=2))
        # Still so a few rounds of the sending loop later, and nothing at C.
        time.sleep(6)
        again = rh.wait_delivery(self.a, later.uid, "c-later", ["waiting"], timeout=5)
        self.assertEqual(waiting["next_attempt_at"], again["next_attempt_at"])
        self.assertEqual({}, rh.instances_at(self.c, later.uid))
        self.assertFalse(set(later.sops) & set(received(self.c)))
        # The list staff look at, and the summary, say it too.
        listed = self.a.admin.get(self.a.url + "/bridge/router/deliveries",
                                  params={"destination": "c-later", "state": "waiting"}, timeout=30).json()
        self.assertEqual(["outside the sending hours " + self.later_window],
                         [d["reason"] for d in listed["deliveries"] if d["study_uid"] == later.uid])
        summary = self.a.admin.get(self.a.url + "/bridge/router/summary", timeout=30).json()
        destination = [d for d in summary["destinations"] if d["name"] == "c-later"][0]
        self.assertEqual(self.later_window, destination["schedule"])
        self.assertEqual(1, destination["waiting"])


if __name__ == "__main__":
    unittest.main()
