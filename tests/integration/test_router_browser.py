"""The Router page in a real headless Chromium, against a real Orthanc +
HospitalBridge whose router sends every study to two destinations that cannot
take it: one nobody answers (the delivery retries) and one answering an HTML
page (the delivery fails with the answer's first bytes).

  1. the page shows per destination what is retrying and failed, and each
     delivery with its state, attempts and reason; a patient name with markup
     is text (no element made from it); no console error or CSP violation;
     on a reception PC's 1366 px screen nothing scrolls sideways, and on a
     phone every delivery is a card no wider than the screen;
  2. "Resend" on the failed delivery (confirmed in the dialog) queues it
     again: its attempts start over, and the audit trail says who did it;
  3. "Cancel" on the retrying delivery (confirmed) closes it as failed,
     "cancelled by" the administrator, and the page says so;
  4. the state filter lists only what it names;
  5. a radiologist sees the page without the buttons (resending is for
     administrators and technicians);
  6. a rule needing research consent, which the patient never gave, does not
     send the study: the page lists it under "Not sent" with why, and "Route
     again" matches it once more (still withheld: nothing is queued).

Screenshots go to HB_ARTIFACTS as router-*.png.
"""

import json
import os
import shutil
import socket
import tempfile
import unittest

import orthanc_harness as h
import router_harness as rh
from test_router import GarbageServer

CHROMIUM_OK = os.path.exists(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
if CHROMIUM_OK:
    import cdp

MARKUP_NAME = "Rou<b>Bold</b><img src>"
PAGE_TIMEOUT = 30
UI_TIMEOUT = 30

INJECTED_JS = """(function(){
    var r = {};
    r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
               function(e){return e.textContent==='Bold';}).length;
    r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
               function(e){var s=e.getAttribute('src'); return s===null || s==='';}).length;
    return r; })()"""

# Widths that overflow their box: the page itself, and any table wrapper; and
# buttons squeezed until their label breaks over several lines.
OVERFLOW_JS = """(function(){
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll('td button'), function(b){
      var style = getComputedStyle(b), line = parseFloat(style.lineHeight);
      if (!(line > 0)) line = 1.3 * parseFloat(style.fontSize);
      if (b.getBoundingClientRect().height > 2 * line + 16)
        out.push('button ' + b.textContent.trim() + ' ' + Math.round(b.getBoundingClientRect().height) + ' px high');
    });
    var root = document.documentElement;
    if (root.scrollWidth > window.innerWidth + 1) out.push('page ' + root.scrollWidth + ' > ' + window.innerWidth);
    Array.prototype.forEach.call(document.querySelectorAll('.hb-table-wrap'), function(w){
      if (w.scrollWidth > w.clientWidth + 1) out.push((w.firstElementChild || w).id + ' ' + w.scrollWidth +
                                                      ' > ' + w.clientWidth);
    });
    return out; })()"""


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def row_js(destination):
    return ("Array.prototype.filter.call(document.querySelectorAll('#router-deliveries-body tr'),"
            " function(r){return r.innerText.indexOf(%s) >= 0;})[0]" % json.dumps(destination))


@unittest.skipUnless(CHROMIUM_OK, "chromium not installed")
class RouterBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-router-browser-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.garbage = GarbageServer()
        cls.addClassCleanup(cls.garbage.close)
        dead = "http://127.0.0.1:%d/dicom-web" % closed_port()
        cls.site = h.OrthancSite("router-browser", extra_config={
            "StableAge": 2,
            "HospitalBridge": {
                "Modules": {"Router": True},
                "Router": {
                    "Destinations": [
                        {"Name": "archive-offline", "Type": "dicomweb", "Url": dead, "TimeoutMs": 2000},
                        {"Name": "html-server", "Type": "dicomweb", "Url": cls.garbage.url + "/dicom-web"},
                        {"Name": "research-archive", "Type": "dicomweb", "Url": dead},
                    ],
                    "Rules": [{"Name": "all", "Destinations": ["archive-offline", "html-server"]},
                              {"Name": "research-copy", "Consent": "Research",
                               "Destinations": ["research-archive"]}]}}})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.url = cls.site.url
        cls.admin = cls.site.admin
        cls.uid = h.generate_uid()
        series = h.generate_uid()
        files = []
        for i in range(2):
            path = os.path.join(cls.tmp, "ct-%d.dcm" % i)
            h.make_variant(h.sample("CT_small.dcm"), path, study_uid=cls.uid, series_uid=series,
                           AccessionNumber="ACC-ROUTER-PAGE-0001", PatientID="RT-PAGE-1",
                           PatientName=MARKUP_NAME, InstanceNumber=i + 1)
            files.append(path)
        cls.site.storescu(files)
        rh.wait_delivery(cls.site, cls.uid, "html-server", ["failed"], timeout=60)
        rh.wait_delivery(cls.site, cls.uid, "archive-offline", ["retrying"], timeout=60)
        cls.radiologist_password = cls.site.create_user("router-rad", "radiologist")

        cls.browser = cdp.Browser()
        cls.addClassCleanup(cls.browser.close)
        cls.browser.start()
        cls.login(h.ADMIN_USER, cls.site.admin_password)

    @classmethod
    def login(cls, user, password):
        b = cls.browser
        b.call("Network.clearBrowserCookies")
        b.set_viewport(1366, 768)
        b.navigate(cls.url + "/bridge/app/login.html", timeout=PAGE_TIMEOUT)
        b.wait_js("!!document.getElementById('username')", UI_TIMEOUT)
        b.type_into("#username", user)
        b.type_into("#password", password)
        b.click("#login-submit")
        b.wait_js("location.pathname.indexOf('login') === -1", PAGE_TIMEOUT)

    def setUp(self):
        self.b = self.browser
        self.b.set_viewport(1366, 768)
        del self.b.problems[:]

    def shot(self, name):
        data = self.b.screenshot(os.path.join(self.out, "router-%s.png" % name), full_page=True)
        self.assertGreater(len(data), 1000)

    def wait_js(self, expression, message, timeout=UI_TIMEOUT):
        try:
            return self.b.wait_js(expression, timeout, message=message)
        except AssertionError as e:
            self.fail("%s\npage shows: %r\nconsole: %r" % (
                e, (self.b.evaluate("document.body.innerText") or "")[:1500], self.b.problems))

    def open_router(self):
        self.b.navigate(self.url + "/bridge/app/router.html", timeout=PAGE_TIMEOUT)
        self.wait_js("document.querySelectorAll('#router-deliveries-body tr').length >= 2 && "
                     "!!document.getElementById('router-destinations')", "the Router page did not list deliveries")

    def delivery(self, destination):
        proof = rh.study_proof(self.site, self.uid)
        return [d for d in proof["deliveries"] if d["destination"] == destination][0]

    def confirm_dialog(self):
        self.wait_js("!!document.querySelector('dialog[open] .hb-dialog-actions')", "no confirmation dialog")
        self.b.evaluate("document.querySelector('dialog[open] .hb-dialog-actions button:last-child').click()")

    def test_1_what_is_stuck_and_why_on_a_reception_pc_and_a_phone(self):
        self.open_router()
        destinations = self.b.evaluate("document.getElementById('router-destinations').innerText")
        self.assertIn("archive-offline", destinations)
        self.assertIn("html-server", destinations)
        failed = self.b.evaluate(row_js("html-server") + ".innerText")
        self.assertIn("Failed", failed)
        self.assertIn("Welcome to the garbage server", failed, "the reason quotes the answer's first bytes")
        self.assertIn("ACC-ROUTER-PAGE-0001", failed)
        self.assertIn(MARKUP_NAME.split("<")[0], failed)
        retrying = self.b.evaluate(row_js("archive-offline") + ".innerText")
        self.assertIn("Retrying", retrying)
        self.assertIn("next attempt", retrying)
        self.assertEqual(self.b.evaluate(INJECTED_JS), {"bold": 0, "imgs": 0})
        self.assertIn(MARKUP_NAME, self.b.evaluate("document.getElementById('router-app').innerText"))
        self.assertEqual(self.b.evaluate(OVERFLOW_JS), [], "the reception PC's screen scrolls sideways")
        self.assertEqual(self.b.problems, [])
        self.assertEqual(self.b.csp_violations(), [])
        self.shot("page")
        self.b.set_viewport(390, 844, mobile=True, scale=2)
        self.open_router()
        self.assertEqual(self.b.evaluate(OVERFLOW_JS), [], "the phone's screen scrolls sideways")
        widths = self.b.evaluate("Array.prototype.map.call(document.querySelectorAll('#router-deliveries-body tr'),"
                                 " function(r){return r.getBoundingClientRect().width;})")
        self.assertTrue(widths and all(0 < w <= 390 for w in widths), widths)
        self.shot("phone")

    def test_2_resend_queues_the_failed_delivery_again(self):
        before = self.delivery("html-server")
        self.assertEqual(before["state"], "failed")
        self.open_router()
        self.wait_js("!!" + row_js("html-server") + ".querySelector('.hb-actions button')", "no Resend button")
        self.b.evaluate(row_js("html-server") + ".querySelector('.hb-actions button').click()")
        self.confirm_dialog()
        self.wait_js("document.getElementById('router-notice').innerText.indexOf('Queued again') >= 0",
                     "the page did not say it was queued again")
        # Sent again (and refused again by the HTML server): a new first attempt, done by the admin.
        h.wait_until(lambda: self.delivery("html-server")["state"] == "failed" and
                     self.delivery("html-server")["updated_at"] >= before["updated_at"] and
                     self.delivery("html-server")["attempts"] == 1, 60, message="not sent again")
        r = self.admin.get(self.url + "/bridge/audit", params={"action": "router.changed"}, timeout=30)
        self.assertEqual(r.status_code, 200, r.text[:300])
        resent = [e for e in r.json()["events"] if e.get("study_uid") == self.uid and '"resend"' in json.dumps(e)]
        self.assertEqual(len(resent), 1, r.json()["events"])
        self.assertIn(h.ADMIN_USER, json.dumps(resent[0]))

    def test_3_cancel_closes_the_retrying_delivery(self):
        self.assertEqual(self.delivery("archive-offline")["state"], "retrying")
        self.open_router()
        self.wait_js("!!" + row_js("archive-offline") + ".querySelector('.hb-actions button')", "no Cancel button")
        self.b.evaluate(row_js("archive-offline") + ".querySelector('.hb-actions button:last-child').click()")
        self.confirm_dialog()
        self.wait_js("document.getElementById('router-notice').innerText.indexOf('Cancelled') >= 0",
                     "the page did not say it was cancelled")
        d = self.delivery("archive-offline")
        self.assertEqual((d["state"], d["reason"]), ("failed", "cancelled by " + h.ADMIN_USER))
        self.wait_js(row_js("archive-offline") + ".innerText.indexOf('cancelled by') >= 0",
                     "the row does not show the cancellation")

    def test_4_the_state_filter_lists_only_what_it_names(self):
        self.open_router()
        self.b.evaluate("(function(){var s=document.getElementById('router-state'); s.value='delivered';"
                        " s.dispatchEvent(new Event('change', {bubbles:true}));})()")
        self.wait_js("!!document.getElementById('router-empty')", "delivered deliveries were listed")
        self.b.evaluate("(function(){var s=document.getElementById('router-state'); s.value='failed';"
                        " s.dispatchEvent(new Event('change', {bubbles:true}));})()")
        self.wait_js("document.querySelectorAll('#router-deliveries-body tr').length >= 1 && "
                     "Array.prototype.every.call(document.querySelectorAll('#router-deliveries-body tr'),"
                     " function(r){return r.innerText.indexOf('Failed') >= 0;})", "the failed filter")

    def test_5_a_radiologist_sees_but_does_not_act(self):
        try:
            self.login("router-rad", self.radiologist_password)
            self.open_router()
            self.wait_js("(document.querySelector('.hb-user-name') || {}).textContent === 'router-rad'",
                         "the radiologist's page did not finish loading")
            self.assertEqual(self.b.evaluate("document.querySelectorAll('#router-app button').length"), 0)
            r = self.site.user_session("router-rad2", "radiologist").post(
                self.url + "/bridge/router/resend-failed", json={"destination": "html-server"}, timeout=30)
            self.assertEqual(r.status_code, 403)
        finally:
            self.login(h.ADMIN_USER, self.site.admin_password)

    def test_6_what_consent_withholds_is_listed(self):
        summary = self.admin.get(self.url + "/bridge/router/summary", timeout=30).json()
        research = [d for d in summary["destinations"] if d["name"] == "research-archive"][0]
        self.assertEqual((research["not_sent"], research["queued"], research["failed"]), (1, 0, 0))
        self.assertEqual([d["destination"] for d in self.delivery_list() if d["destination"] == "research-archive"],
                         [], "nothing was queued for it")
        self.open_router()
        self.wait_js("!!document.getElementById('router-not-sent')", "no Not sent section")
        row = self.b.evaluate("document.querySelector('#router-not-sent tbody tr').innerText")
        for expected in (self.uid, "research-archive", "research-copy", "consent (research) does not permit it"):
            self.assertIn(expected, row)
        self.assertEqual(self.b.evaluate(OVERFLOW_JS), [])
        self.b.evaluate("document.querySelector('#router-not-sent tbody button').click()")
        self.wait_js("document.getElementById('router-notice').innerText.indexOf('Matched against the rules again') >= 0",
                     "the page did not say it routed the study again")
        self.assertEqual([d["destination"] for d in self.delivery_list() if d["destination"] == "research-archive"],
                         [], "still withheld: routing again sends nothing")
        self.assertEqual(self.b.problems, [])

    def delivery_list(self):
        return rh.study_proof(self.site, self.uid)["deliveries"]


if __name__ == "__main__":
    unittest.main()
