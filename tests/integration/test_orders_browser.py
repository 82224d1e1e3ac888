"""The Orders page, the reception's "Arrived" button and Orthanc Explorer's
study page in a real headless Chromium, against a real Orthanc +
HospitalBridge:

  1. the Orders page lists today's orders per modality and station, a
     patient name with markup shown as text (no element made from it), and
     the reconciliation list shows a study without order (its markup name as
     text too), with no console error or CSP violation;
  2. "Arrived" on the Orders page checks the patient in;
  3. a new order is made with the page's form and appears in the schedule;
  4. the study without order is attached from the reconciliation list: the
     server starts the attachment, and the list says so;
  5. the reception page has an "Arrived" button on today's orders;
  6. Orthanc Explorer's study page shows the study's order.

Screenshots go to HB_ARTIFACTS as orders-*.png.
"""

import datetime
import json
import os
import shutil
import tempfile
import time
import unittest

import orthanc_harness as h

CHROMIUM_OK = os.path.exists(os.environ.get("HB_CHROMIUM", "/usr/bin/chromium"))
if CHROMIUM_OK:
    import cdp

MARKUP_ORDER = "Ord<b>Bold</b><img src>"
MARKUP_STUDY = "Stu<b>Bold</b><img src>"
TODAY = datetime.date.today().isoformat()
PAGE_TIMEOUT = 30
UI_TIMEOUT = 30

INJECTED_JS = """(function(){
    var r = {};
    r.bold = Array.prototype.filter.call(document.querySelectorAll('b'),
               function(e){return e.textContent==='Bold';}).length;
    r.imgs = Array.prototype.filter.call(document.querySelectorAll('img'),
               function(e){var s=e.getAttribute('src'); return s===null || s==='';}).length;
    return r; })()"""


def js(value):
    return json.dumps(value)


@unittest.skipUnless(CHROMIUM_OK, "chromium not installed")
class OrdersBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = h.artifacts_dir()
        cls.tmp = h.register_temp_dir(tempfile.mkdtemp(prefix="hb-orders-browser-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.site = h.OrthancSite("orders-browser", extra_config={"StableAge": 2})
        cls.addClassCleanup(cls.site.close)
        cls.site.start()
        cls.url = cls.site.url
        cls.admin = cls.site.admin

        def order(pid, name, modality, station, time_of_day):
            r = cls.admin.post(cls.url + "/bridge/orders", timeout=30, json={
                "patient": {"patient_id": pid, "name": name}, "modality": modality, "station_aet": station,
                "scheduled_start": TODAY + "T" + time_of_day, "procedure": {"description": modality + " exam"}})
            assert r.status_code == 201, r.text
            return r.json()
        cls.markup = order("ORD-MARKUP", MARKUP_ORDER, "CT", "CT1", "09:00")
        cls.plain = order("ORD-PLAIN", "PLAIN^PETER", "MR", "MR1", "10:00")
        cls.desk = order("ORD-DESK", "DESK^DORA", "CT", "CT1", "11:00")
        path = h.make_variant(h.sample("CT_small.dcm"), os.path.join(cls.tmp, "lost.dcm"),
                              PatientName=MARKUP_STUDY, PatientID="ORD-MARKUP-TYPO", AccessionNumber="")
        cls.site.storescu([path])
        cls.lost_uid = h.expected_study(path)["study_uid"]
        h.wait_until(lambda: [e for e in cls.admin.get(cls.url + "/bridge/orders/reconciliation", timeout=30)
                              .json()["studies"] if e["study_uid"] == cls.lost_uid], 30,
                     message="the study without order was not listed")

        cls.browser = cdp.Browser()
        cls.addClassCleanup(cls.browser.close)
        cls.browser.start()
        b = cls.browser
        b.set_viewport(1366, 900)
        b.navigate(cls.url + "/bridge/app/login.html", timeout=PAGE_TIMEOUT)
        b.wait_js("!!document.getElementById('username')", UI_TIMEOUT)
        b.type_into("#username", h.ADMIN_USER)
        b.type_into("#password", cls.site.admin_password)
        b.click("#login-submit")
        b.wait_js("location.pathname.indexOf('login') === -1", PAGE_TIMEOUT)

    def setUp(self):
        self.b = self.browser
        self.b.call("Page.bringToFront")
        del self.b.problems[:]

    def shot(self, name):
        data = self.b.screenshot(os.path.join(self.out, "orders-%s.png" % name), full_page=True)
        self.assertGreater(len(data), 1000)

    def wait_js(self, expression, message, timeout=UI_TIMEOUT):
        try:
            return self.b.wait_js(expression, timeout, message=message)
        except AssertionError as e:
            self.fail("%s\npage shows: %r\nconsole: %r" % (
                e, (self.b.evaluate("document.body.innerText") or "")[:1500], self.b.problems))

    def open_orders(self):
        self.b.navigate(self.url + "/bridge/app/orders.html", timeout=PAGE_TIMEOUT)
        self.wait_js("document.querySelectorAll('tr[data-order]').length >= 3 && "
                     "document.querySelectorAll('tr[data-study]').length >= 1", "orders page not loaded")

    def row_js(self, order_id):
        return "document.querySelector('tr[data-order=\"%d\"]')" % order_id

    def test_1_the_schedule_and_the_reconciliation_list_show_names_as_text(self):
        self.open_orders()
        text = self.b.evaluate("document.getElementById('orders-app').innerText")
        self.assertIn(MARKUP_ORDER, text)
        self.assertIn(MARKUP_STUDY, text)
        self.assertIn("CT \u00b7 CT1", text)
        self.assertIn("MR \u00b7 MR1", text)
        self.assertEqual(self.b.evaluate(INJECTED_JS), {"bold": 0, "imgs": 0})
        row = self.b.evaluate("document.querySelector('tr[data-study]').innerText")
        self.assertIn("ORD-MARKUP-TYPO", row)
        self.assertEqual(self.b.problems, [])
        self.assertEqual(self.b.csp_violations(), [])
        self.shot("page")

    def test_2_arrived_checks_the_patient_in(self):
        self.open_orders()
        self.b.evaluate(self.row_js(self.plain["id"]) + ".querySelector('.hb-arrive').click()")
        self.wait_js(self.row_js(self.plain["id"]) + ".innerText.indexOf('Arrived') >= 0 && !" +
                     self.row_js(self.plain["id"]) + ".querySelector('.hb-arrive')", "not checked in")
        order = self.admin.get(self.url + "/bridge/orders/%d" % self.plain["id"], timeout=30).json()
        self.assertEqual(order["status"], "arrived")
        self.assertEqual(order["history"][-1]["actor"], h.ADMIN_USER)

    def test_3_a_new_order_from_the_form(self):
        self.open_orders()
        self.b.click("#order-new")
        self.wait_js("!!document.getElementById('order-form')", "no form")
        self.b.type_into("#order-patient_id", "ORD-FORM-1")
        self.b.type_into("#order-name", "FORM^FIONA")
        self.b.type_into("#order-modality", "US")
        self.b.type_into("#order-station_aet", "US1")
        self.b.click("#order-save")
        self.wait_js("!document.getElementById('order-form') && "
                     "document.getElementById('orders-app').innerText.indexOf('FORM, FIONA') >= 0",
                     "the new order is not in the schedule")
        found = self.admin.get(self.url + "/bridge/orders", params={"patient_id": "ORD-FORM-1"},
                               timeout=30).json()["orders"]
        self.assertEqual([(o["modality"], o["station_aet"], o["status"]) for o in found], [("US", "US1", "scheduled")])
        self.shot("new-order")

    def test_4_attach_from_the_reconciliation_list(self):
        self.open_orders()
        select = "document.querySelector('tr[data-study] select')"
        self.wait_js(select + " && " + select + ".options.length >= 1", "no candidates")
        # The same day's CT order of the right patient (the page lists candidates).
        options = self.b.evaluate("Array.prototype.map.call(%s.options, function(o){return o.value;})" % select)
        self.assertIn(str(self.markup["id"]), options)
        self.b.evaluate("(function(){var s=%s; s.value=%s; s.dispatchEvent(new Event('change', {bubbles:true}));})()"
                        % (select, js(str(self.markup["id"]))))
        self.b.evaluate("document.querySelector('tr[data-study] .hb-button-primary').click()")
        h.wait_until(lambda: self.admin.get(self.url + "/bridge/orders/%d" % self.markup["id"], timeout=30)
                     .json()["status"] == "completed", 60, message="the attached study did not complete the order")
        # The corrected study carries the order's accession number.
        study = self.site.bridge_study(self.markup["study_uid"])
        self.assertEqual(study["accession_number"], self.markup["accession_number"])
        self.assertEqual(study["order"]["id"], self.markup["id"])

    def test_5_reception_has_arrived_on_todays_orders(self):
        self.b.navigate(self.url + "/bridge/app/reception.html", timeout=PAGE_TIMEOUT)
        row = ("Array.prototype.filter.call(document.querySelectorAll('#orders-body tr'),"
               " function(r){return r.textContent.indexOf('ORD-DESK')>=0;})[0]")
        self.wait_js("!document.getElementById('orders-section').hidden && !!(%s)" % row, "no orders section")
        self.b.evaluate(row + ".querySelector('.hb-arrive').click()")
        h.wait_until(lambda: self.admin.get(self.url + "/bridge/orders/%d" % self.desk["id"], timeout=30)
                     .json()["status"] == "arrived", 20, message="reception's Arrived did nothing")
        self.wait_js("!(%s)" % row, "the checked-in order is still listed")
        self.assertEqual(self.b.problems, [])

    def test_6_explorer_shows_the_order_of_a_study(self):
        h.wait_until(lambda: self.admin.get(self.url + "/bridge/orders/%d" % self.markup["id"], timeout=30)
                     .json()["status"] == "completed", 90, message="order not completed yet")
        oid = self.site.orthanc_study_id(self.markup["study_uid"])
        self.b.navigate(self.url + "/app/explorer.html#study?uuid=" + oid, timeout=PAGE_TIMEOUT)
        self.wait_js("!!document.getElementById('hospitalbridge-order') && "
                     "document.getElementById('hospitalbridge-order').textContent.indexOf(%s) >= 0"
                     % js(self.markup["accession_number"]), "no order on the study page")
        self.assertIn("completed", self.b.evaluate("document.getElementById('hospitalbridge-order').textContent"))
        self.shot("explorer")


if __name__ == "__main__":
    unittest.main()
