// Reading and reporting without a server: the state machine, the canonical
// content and its hash, templates and their versions, who may do what, the
// service's sign-off rules (with a renderer and Orthanc that tests control),
// the PDF, the live queue's feed, the delivery to Orthanc and the settings.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "Common/AuditSink.h"
#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Configuration.h"
#include "Reports/ChangeFeed.h"
#include "Reports/FhirDiagnosticReport.h"
#include "Reports/ReadingQueueFeeder.h"
#include "Reports/Report.h"
#include "Reports/ReportDelivery.h"
#include "Reports/ReportGlossary.h"
#include "Reports/ReportPdf.h"
#include "Reports/ReportService.h"
#include "Reports/ReportStore.h"
#include "Reports/ReportTemplate.h"
#include "Reports/ReportsPortal.h"
#include "TestSupport.h"

using namespace HospitalBridge;

// fontconfig (through pango) keeps its font patterns for the life of the
// process in structures LeakSanitizer does not follow, and reports them at
// exit; the PDF tests load it. Only that library is ignored.
extern "C" const char* __lsan_default_suppressions();  // NOLINT(bugprone-reserved-identifier)
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace {

class CollectingAudit : public IAuditSink {
 public:
  void Record(AuditEvent event) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  int Count(const std::string& action) {
    std::lock_guard<std::mutex> lock(mutex);
    int n = 0;
    for (const AuditEvent& e : events) n += e.action == action ? 1 : 0;
    return n;
  }
  std::mutex mutex;
  std::vector<AuditEvent> events;
};

class FakeRenderer : public IReportRenderer {
 public:
  std::string Render(const ReportDocument& document) override {
    calls++;
    last = document;
    if (fail) throw ReportRenderError("the renderer was told to fail");
    return "%PDF-1.5 fake " + document.hash;
  }
  bool fail = false;
  int calls = 0;
  ReportDocument last;
};

Identity Person(const std::string& name, Role role) { return Identity{true, 1, name, role, true}; }

Json::Value Canned(const std::string& text) {
  Json::Value value;
  JsonText::Parse(text, value);
  return value;
}

StudyRecord Study(const std::string& id, const std::string& modality = "CT") {
  StudyRecord study;
  study.orthancId = id;
  study.studyUid = "1.2.3." + id;
  study.patientId = "P-" + id;
  study.patientName = "DOE^JANE";
  study.patientBirthDate = "19700101";
  study.patientSex = "F";
  study.studyDate = "20261120";
  study.description = "CT head";
  study.accessionNumber = "A" + id;
  study.modalities = {modality};
  study.stable = true;
  return study;
}

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    site.siteId = "HOS-001";
    site.siteName = "General Hospital";
    settings.queueModalities = {"CT"};
    settings.residents = {"dr.res"};
    settings.leadRadiologists = {"dr.lead"};
    database = MigratedMemoryDatabase();
    store = std::make_unique<ReportStore>(*database);
    studies = std::make_unique<StudyIndexStore>(*database);
    feed = std::make_unique<ChangeFeed>(2, [this] { return store->LatestSeq(); });
    ReportService::Needs needs{
        *store,
        *studies,
        orthanc,
        renderer,
        audit,
        nullptr,
        nullptr,
        *feed,
        [](const std::string& user, const std::string& password, const std::string&, int64_t& retryAfter) {
          retryAfter = 0;
          return password == "pw-" + user;
        },
        [](const std::string& user) { return user.rfind("dr.", 0) == 0; },
        [] {
          return HospitalInfo{"General Hospital", "1 Main St", "", ""};
        }};
    service = std::make_unique<ReportService>(std::move(needs), site, settings, clock);
  }

  // A CT study indexed, in Orthanc, and queued.
  Report Queue(const std::string& id) {
    StudyRecord study = Study(id);
    studies->Upsert(study);
    orthanc.Set("/studies/" + id, Canned("{\"ID\": \"" + id + "\"}"));
    service->Consider(study);
    return *store->FindByOrthancId(id);
  }

  Report Drafted(const std::string& id, const Identity& who) {
    Report report = Queue(id);
    service->Create(report.studyUid, "ct-head", Caller{who, "127.0.0.1"});
    Json::Value body;
    body["sections"]["findings"] = "No bleed.";
    body["sections"]["impression"] = "Normal.";
    return service->Save(report.id, body, Caller{who, "127.0.0.1"});
  }

  SiteSettings site;
  ReportsSettings settings;
  ManualClock clock;
  CannedOrthanc orthanc;
  FakeRenderer renderer;
  CollectingAudit audit;
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<ReportStore> store;
  std::unique_ptr<StudyIndexStore> studies;
  std::unique_ptr<ChangeFeed> feed;
  std::unique_ptr<ReportService> service;
  const Identity drA = Person("dr.a", Role::kRadiologist);
  const Identity drB = Person("dr.b", Role::kRadiologist);
  const Identity resident = Person("dr.res", Role::kRadiologist);
  const Identity lead = Person("dr.lead", Role::kRadiologist);
  const Identity admin = Person("admin", Role::kAdmin);
  const Identity desk = Person("desk", Role::kReception);
};

DomainError::Kind KindOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const DomainError& e) {
    return e.GetKind();
  }
  ADD_FAILURE() << "no DomainError";
  return DomainError::Kind::kInvalid;
}

}  // namespace

// --- the state machine ---------------------------------------------------------

TEST(ReportStates, AllowedChanges) {
  EXPECT_TRUE(ReportStatus::CanChange("unread", "in-progress"));
  EXPECT_TRUE(ReportStatus::CanChange("in-progress", "draft"));
  EXPECT_TRUE(ReportStatus::CanChange("draft", "preliminary"));
  EXPECT_TRUE(ReportStatus::CanChange("draft", "final"));
  EXPECT_TRUE(ReportStatus::CanChange("preliminary", "final"));
  EXPECT_TRUE(ReportStatus::CanChange("final", "amended"));
  EXPECT_TRUE(ReportStatus::CanChange("amended", "amended"));
  EXPECT_FALSE(ReportStatus::CanChange("unread", "final"));
  EXPECT_FALSE(ReportStatus::CanChange("final", "draft"));
  EXPECT_FALSE(ReportStatus::CanChange("amended", "final"));
  EXPECT_FALSE(ReportStatus::CanChange("preliminary", "draft"));
}

TEST(ReportStates, Signing) {
  EXPECT_EQ(ReportStatus::AfterSigning("draft", false), "final");
  EXPECT_EQ(ReportStatus::AfterSigning("draft", true), "preliminary");
  EXPECT_EQ(ReportStatus::AfterSigning("preliminary", false), "final");
  EXPECT_EQ(ReportStatus::AfterSigning("final", false), "amended");
  EXPECT_EQ(ReportStatus::AfterSigning("amended", false), "amended");
  EXPECT_EQ(KindOf([] { ReportStatus::AfterSigning("preliminary", true); }), DomainError::Kind::kForbidden);
  EXPECT_EQ(KindOf([] { ReportStatus::AfterSigning("final", true); }), DomainError::Kind::kForbidden);
  EXPECT_EQ(KindOf([] { ReportStatus::AfterSigning("unread", false); }), DomainError::Kind::kConflict);
  for (const std::string& status : ReportStatus::All()) {
    EXPECT_EQ(ReportStatus::IsOpen(status), status != "final" && status != "amended") << status;
  }
  EXPECT_EQ(PriorityRank("stat"), 0);
  EXPECT_EQ(PriorityRank("urgent"), 1);
  EXPECT_EQ(PriorityRank("routine"), 2);
  EXPECT_EQ(PriorityRank("whatever"), 2);
}

// --- canonical content and hashing ---------------------------------------------

TEST(ReportHashing, CanonicalJsonIsSortedCompactAndStable) {
  Json::Value value;
  value["b"] = "x\"y\\z\n\x01";
  value["a"] = Json::Value(Json::arrayValue);
  value["a"].append(1);
  value["a"].append(true);
  value["a"].append(Json::Value());
  value["c"]["é"] = "Ünïcode <b>";
  EXPECT_EQ(CanonicalJson(value),
            "{\"a\":[1,true,null],\"b\":\"x\\\"y\\\\z\\n\\u0001\",\"c\":{\"é\":\"Ünïcode <b>\"}}");
  Json::Value same;
  same["c"]["é"] = "Ünïcode <b>";
  same["a"] = value["a"];
  same["b"] = value["b"];
  EXPECT_EQ(CanonicalJson(same), CanonicalJson(value));
  Json::Value real;
  real["x"] = 1.5;
  EXPECT_THROW(CanonicalJson(real), std::invalid_argument);
  EXPECT_EQ(ContentHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(Reports, SignatureHashCoversTheCanonicalContent) {
  Report report = Drafted("s1", drA);
  SignOutcome outcome = service->Sign(report.id, "pw-dr.a", Caller{drA, "10.0.0.1"});
  EXPECT_EQ(outcome.report.status, "final");
  std::optional<ReportVersion> stored = store->FindVersion(report.id, 1);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->contentHash, ContentHash(stored->canonical));
  EXPECT_NE(stored->canonical.find("\"No bleed.\""), std::string::npos);
  EXPECT_NE(stored->canonical.find("\"status\":\"final\""), std::string::npos);
  EXPECT_EQ(renderer.last.hash, stored->contentHash);
  // The same content hashes the same; a changed finding does not.
  Json::Value parsed;
  ASSERT_TRUE(JsonText::Parse(stored->canonical, parsed));
  EXPECT_EQ(CanonicalJson(parsed), stored->canonical);
  parsed["sections"][6]["value"] = "A bleed.";
  EXPECT_NE(ContentHash(CanonicalJson(parsed)), stored->contentHash);
}

// --- templates -------------------------------------------------------------------

TEST(ReportTemplates, UnknownFieldTypeIsNamed) {
  Json::Value body = Canned(R"({"key": "k", "name": "K", "sections": [
      {"id": "findings", "label": "Findings", "type": "text"},
      {"id": "grade", "label": "Grade", "type": "slider"}]})");
  try {
    ParseTemplate(body);
    FAIL() << "accepted";
  } catch (const DomainError& e) {
    EXPECT_EQ(e.GetKind(), DomainError::Kind::kInvalid);
    EXPECT_NE(e.Detail().find("sections[1].type: unknown field type \"slider\""), std::string::npos)
        << e.Detail();
  }
}

TEST(ReportTemplates, RefusesWhatCannotWork) {
  auto refused = [](const std::string& text) {
    EXPECT_EQ(KindOf([&] { ParseTemplate(Canned(text)); }), DomainError::Kind::kInvalid) << text;
  };
  refused(R"({"key": "k", "name": "K", "sections": []})");
  refused(R"({"key": "k", "name": "K", "sections": [{"id": "a", "label": "A", "type": "choice"}]})");
  refused(R"({"key": "k", "name": "K", "sections": [{"id": "a", "label": "A", "type": "text"},
                                                    {"id": "a", "label": "B", "type": "text"}]})");
  refused(R"({"key": "bad key", "name": "K", "sections": [{"id": "a", "label": "A", "type": "text"}]})");
  refused(
      R"({"key": "k", "name": "K", "colour": "red", "sections": [{"id": "a", "label": "A", "type": "text"}]})");
  ReportTemplate ok = ParseTemplate(Canned(R"({"key": "k", "name": "K", "modalities": ["CR"], "sections": [
      {"id": "side", "label": "Side", "type": "choice", "options": ["Left", "Right"]},
      {"id": "signs", "label": "Signs", "type": "multichoice", "options": ["A", "B"]},
      {"id": "impression", "label": "Impression", "type": "text", "required": true}]})"));
  EXPECT_EQ(ok.sections.size(), 3u);
  CheckSectionValues(ok, Canned(R"({"side": "Left", "signs": ["A"], "impression": "<b>x</b>"})"));
  EXPECT_EQ(KindOf([&] { CheckSectionValues(ok, Canned(R"({"side": "Up"})")); }),
            DomainError::Kind::kInvalid);
  EXPECT_EQ(KindOf([&] { CheckSectionValues(ok, Canned(R"({"signs": ["C"]})")); }),
            DomainError::Kind::kInvalid);
  EXPECT_EQ(KindOf([&] { CheckSectionValues(ok, Canned(R"({"other": "x"})")); }),
            DomainError::Kind::kInvalid);
  EXPECT_EQ(MissingRequiredSections(ok, Canned(R"({"impression": "  "})")),
            std::vector<std::string>{"impression"});
}

TEST_F(Reports, TemplateVersionsAndTheReportKeepsItsOwn) {
  EXPECT_EQ(store->Templates(false).size(), 5u);  // the shipped ones
  Json::Value body = Canned(R"({"key": "xr-knee", "name": "Knee", "sections": [
      {"id": "findings", "label": "Findings", "type": "text", "required": true}]})");
  ReportTemplate first = service->CreateTemplate(body, Caller{admin, ""});
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(KindOf([&] { service->CreateTemplate(body, Caller{admin, ""}); }), DomainError::Kind::kConflict);
  EXPECT_EQ(KindOf([&] { service->CreateTemplate(body, Caller{drA, ""}); }), DomainError::Kind::kForbidden);
  Report report = Queue("t1");
  service->Create(report.studyUid, "xr-knee", Caller{drA, ""});
  body["sections"].append(Canned(R"({"id": "impression", "label": "Impression", "type": "text"})"));
  ReportTemplate second = service->UpdateTemplate("xr-knee", body, Caller{admin, ""});
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(store->FindTemplate("xr-knee")->version, 2);
  EXPECT_EQ(store->FindTemplate("xr-knee", 1)->sections.size(), 1u);
  ReportVersion draft = *store->FindVersion(report.id, 1);
  EXPECT_EQ(service->TemplateOf(draft).version, 1);
}

// --- who may do what ----------------------------------------------------------------

TEST(ReportPermissionRules, RolesAndClaims) {
  ReportsSettings settings;
  settings.residents = {"dr.res"};
  settings.leadRadiologists = {"dr.lead"};
  ReportPermissions rules(settings);
  const Identity a = Person("dr.a", Role::kRadiologist);
  const Identity b = Person("dr.b", Role::kRadiologist);
  const Identity res = Person("dr.res", Role::kRadiologist);
  const Identity leadRad = Person("dr.lead", Role::kRadiologist);
  const Identity adm = Person("admin", Role::kAdmin);
  const Identity tech = Person("tech", Role::kTechnician);
  const Identity desk = Person("desk", Role::kReception);

  Report report;
  report.status = "draft";
  report.assignedTo = "dr.a";
  report.latestVersion = 1;
  EXPECT_TRUE(rules.Allows(a, ReportAction::kSign, &report));
  EXPECT_FALSE(rules.Allows(b, ReportAction::kSign, &report));
  EXPECT_FALSE(rules.Allows(b, ReportAction::kEdit, &report));
  EXPECT_FALSE(rules.Allows(b, ReportAction::kClaim, &report));
  EXPECT_FALSE(rules.Allows(adm, ReportAction::kSign, &report));
  EXPECT_TRUE(rules.Allows(adm, ReportAction::kAssign, &report));
  EXPECT_TRUE(rules.Allows(leadRad, ReportAction::kAssign, &report));
  EXPECT_FALSE(rules.Allows(a, ReportAction::kAssign, &report));
  EXPECT_TRUE(rules.Allows(leadRad, ReportAction::kRelease, &report));
  EXPECT_FALSE(rules.Allows(b, ReportAction::kRelease, &report));
  EXPECT_FALSE(rules.Allows(desk, ReportAction::kRead, &report));
  EXPECT_FALSE(rules.Allows(tech, ReportAction::kReadQueue, nullptr));
  EXPECT_TRUE(rules.Allows(adm, ReportAction::kManageTemplates, nullptr));
  EXPECT_FALSE(rules.Allows(a, ReportAction::kManageTemplates, nullptr));

  report.status = "preliminary";
  report.assignedTo.clear();
  report.signedVersion = 1;
  EXPECT_FALSE(rules.Allows(res, ReportAction::kClaim, &report));
  EXPECT_TRUE(rules.Allows(b, ReportAction::kClaim, &report));
  EXPECT_FALSE(rules.Allows(desk, ReportAction::kRead, &report));

  report.status = "final";
  report.finalAt = 100;
  report.assignedTo = "dr.a";
  EXPECT_TRUE(rules.Allows(desk, ReportAction::kRead, &report));
  EXPECT_TRUE(rules.Allows(tech, ReportAction::kRead, &report));
  EXPECT_TRUE(rules.Allows(b, ReportAction::kAmend, &report));
  EXPECT_FALSE(rules.Allows(res, ReportAction::kAmend, &report));
  EXPECT_FALSE(rules.Allows(b, ReportAction::kClaim, &report));
  report.latestVersion = 2;  // dr.a writes an addendum
  EXPECT_FALSE(rules.Allows(b, ReportAction::kAmend, &report));
}

// --- the service --------------------------------------------------------------------

TEST_F(Reports, QueueEntryIsIdempotentWithPriorityAndDueTime) {
  StudyRecord ct = Study("q1");
  studies->Upsert(ct);
  service->Consider(ct);
  service->Consider(ct);
  StudyRecord cr = Study("q2", "CR");
  service->Consider(cr);
  QueueFilter filter;
  QueuePage page = store->Queue(filter);
  ASSERT_EQ(page.total, 1);
  EXPECT_EQ(page.reports[0].status, "unread");
  EXPECT_EQ(page.reports[0].dueAt - page.reports[0].queuedAt, 1440 * 60);
  EXPECT_EQ(store->ChangesAfter(0, 10).size(), 1u);
  // Deleted: out of the queue.
  service->StudyGone("q1");
  EXPECT_EQ(store->Queue(filter).total, 0);
  EXPECT_TRUE(store->FindByOrthancId("q1")->studyGone);
}

TEST_F(Reports, QueueOrderOldestOverdueStatFirst) {
  for (const char* id : {"r1", "r2", "r3"}) Queue(id);
  // Make r3 stat (as an order would) and r1 overdue.
  InWrite(*database, [&](Transaction& transaction) {
    Report r3 = *store->FindByOrthancId(transaction, "r3");
    r3.priority = "stat";
    r3.dueAt = r3.queuedAt + 3600;
    store->Update(transaction, r3);
    Report r1 = *store->FindByOrthancId(transaction, "r1");
    r1.dueAt = clock.NowSeconds() - 10;
    store->Update(transaction, r1);
  });
  QueueFilter filter;
  filter.now = clock.NowSeconds();
  QueuePage page = store->Queue(filter);
  ASSERT_EQ(page.reports.size(), 3u);
  EXPECT_EQ(page.reports[0].orthancId, "r3");
  EXPECT_EQ(page.reports[1].orthancId, "r1");
  filter.overdueOnly = true;
  EXPECT_EQ(store->Queue(filter).total, 1);
  filter.overdueOnly = false;
  filter.priority = "stat";
  EXPECT_EQ(store->Queue(filter).total, 1);
  filter.priority.clear();
  filter.modality = "MR";
  EXPECT_EQ(store->Queue(filter).total, 0);
  filter.modality = "CT";
  EXPECT_EQ(store->Queue(filter).total, 3);
}

TEST_F(Reports, SignOffRules) {
  Report report = Drafted("s2", drA);
  // Someone else's claimed draft: 403, before any password is checked.
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.b", Caller{drB, ""});
            }),
            DomainError::Kind::kForbidden);
  // A wrong password: 403, audited, nothing signed.
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "nope", Caller{drA, ""});
            }),
            DomainError::Kind::kForbidden);
  EXPECT_EQ(audit.Count("report.sign_refused"), 1);
  EXPECT_EQ(store->FindVersion(report.id, 1)->signedStatus, "");
  EXPECT_EQ(renderer.calls, 0);
  service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  // Twice: 409, whoever asks.
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
            }),
            DomainError::Kind::kConflict);
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.b", Caller{drB, ""});
            }),
            DomainError::Kind::kConflict);
  // A signed version never changes.
  Json::Value body;
  body["sections"]["findings"] = "Changed.";
  EXPECT_EQ(KindOf([&] { service->Save(report.id, body, Caller{drA, ""}); }), DomainError::Kind::kConflict);
}

TEST_F(Reports, RenderFailureLeavesNothingSigned) {
  Report report = Drafted("s3", drA);
  const int64_t changes = store->LatestSeq();
  renderer.fail = true;
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
            }),
            DomainError::Kind::kInvalid);
  Report after = *store->Find(report.id);
  EXPECT_EQ(after.status, "draft");
  EXPECT_EQ(after.signedVersion, 0);
  ReportVersion version = *store->FindVersion(report.id, 1);
  EXPECT_FALSE(version.IsSigned());
  EXPECT_EQ(version.contentHash, "");
  std::string pdf;
  EXPECT_FALSE(store->Pdf(report.id, 1, pdf));
  EXPECT_EQ(store->LatestSeq(), changes);
  EXPECT_EQ(store->Undelivered(10).size(), 0u);
}

TEST_F(Reports, StudyGoneIs410NamingIt) {
  Report report = Drafted("s4", drA);
  orthanc.Remove("/studies/s4");
  try {
    service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
    FAIL() << "signed";
  } catch (const DomainError& e) {
    EXPECT_EQ(e.GetKind(), DomainError::Kind::kGone);
    EXPECT_NE(std::string(e.what()).find(report.studyUid), std::string::npos);
  }
  EXPECT_TRUE(store->Find(report.id)->studyGone);
  EXPECT_EQ(KindOf([&] {
              service->Create(report.studyUid, "ct-head", Caller{drA, ""});
            }),
            DomainError::Kind::kGone);
}

TEST_F(Reports, ResidentPreliminaryThenFinalAndAmendment) {
  Report report = Drafted("s5", resident);
  SignOutcome prelim = service->Sign(report.id, "pw-dr.res", Caller{resident, ""});
  EXPECT_EQ(prelim.report.status, "preliminary");
  EXPECT_EQ(prelim.report.assignedTo, "");
  EXPECT_TRUE(prelim.report.Overdue(clock.NowSeconds() + 2 * 86400));  // still to be read
  Report claimed = service->Claim(report.id, Caller{drB, ""});
  EXPECT_EQ(claimed.latestVersion, 2);
  EXPECT_EQ(store->FindVersion(report.id, 2)->kind, "final");
  SignOutcome final = service->Sign(report.id, "pw-dr.b", Caller{drB, ""});
  EXPECT_EQ(final.report.status, "final");
  EXPECT_GT(final.report.finalAt, 0);
  EXPECT_FALSE(final.report.Overdue(clock.NowSeconds() + 10 * 86400));

  EXPECT_EQ(KindOf([&] { service->Amend(report.id, "", Caller{drA, ""}); }), DomainError::Kind::kInvalid);
  Report amending = service->Amend(report.id, "Wrong side", Caller{drA, ""});
  EXPECT_EQ(amending.latestVersion, 3);
  EXPECT_EQ(amending.status, "final");
  // The addendum must say something.
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
            }),
            DomainError::Kind::kInvalid);
  Json::Value body;
  body["addendum"] = "Right side, not left.";
  service->Save(report.id, body, Caller{drA, ""});
  SignOutcome amended = service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  EXPECT_EQ(amended.report.status, "amended");
  ReportVersion v2 = *store->FindVersion(report.id, 2);
  ReportVersion v3 = *store->FindVersion(report.id, 3);
  EXPECT_NE(v3.canonical.find("\"replaces\":\"" + v2.contentHash + "\""), std::string::npos);
  EXPECT_NE(v3.canonical.find("Right side, not left."), std::string::npos);
  // Every version stays readable.
  EXPECT_EQ(store->Versions(report.id).size(), 3u);
  EXPECT_EQ(service->VersionFor(*store->Find(report.id), desk, 2).version, 2);
  EXPECT_EQ(KindOf([&] { service->VersionFor(*store->Find(report.id), desk, 1); }),
            DomainError::Kind::kForbidden);
}

TEST_F(Reports, CriticalFindingNeedsItsCommunication) {
  Report report = Drafted("s6", drA);
  Json::Value body;
  body["critical"] = true;
  service->Save(report.id, body, Caller{drA, ""});
  EXPECT_EQ(KindOf([&] {
              service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
            }),
            DomainError::Kind::kInvalid);
  Json::Value told = Canned(R"({"to": "Dr. Ward", "at": "2027-01-15T08:00:00+01:00", "method": "phone"})");
  EXPECT_EQ(KindOf([&] {
              service->RecordCritical(report.id, Canned(R"({"at": "x", "to": "y"})"), Caller{drA, ""});
            }),
            DomainError::Kind::kInvalid);
  CriticalCommunication recorded = service->RecordCritical(report.id, told, Caller{drA, ""});
  EXPECT_EQ(recorded.at, 1799996400);  // 07:00 UTC
  SignOutcome outcome = service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  EXPECT_TRUE(outcome.report.critical);
  ASSERT_FALSE(renderer.last.notes.empty());
  EXPECT_NE(renderer.last.notes[0].find("Dr. Ward"), std::string::npos);
}

TEST_F(Reports, AssignAndRelease) {
  Report report = Queue("s7");
  EXPECT_EQ(KindOf([&] {
              service->Assign(report.id, "dr.b", Caller{drA, ""});
            }),
            DomainError::Kind::kForbidden);
  EXPECT_EQ(KindOf([&] {
              service->Assign(report.id, "desk", Caller{admin, ""});
            }),
            DomainError::Kind::kInvalid);
  Report assigned = service->Assign(report.id, "dr.b", Caller{lead, ""});
  EXPECT_EQ(assigned.assignedTo, "dr.b");
  EXPECT_EQ(assigned.status, "in-progress");
  EXPECT_EQ(KindOf([&] { service->Claim(report.id, Caller{drA, ""}); }), DomainError::Kind::kForbidden);
  EXPECT_EQ(KindOf([&] { service->Release(report.id, Caller{drA, ""}); }), DomainError::Kind::kForbidden);
  Report released = service->Release(report.id, Caller{drB, ""});
  EXPECT_EQ(released.status, "unread");
  EXPECT_EQ(released.assignedTo, "");
}

TEST_F(Reports, ConsumerQueuesAndForgets) {
  ReadingQueueFeeder feeder(*service);
  StudyRecord study = Study("c1");
  StudyEventContext indexed(StudyEvent{1, "c1", study.studyUid, "indexed", 0}, study, nullptr, nullptr);
  feeder.Consume(indexed);
  feeder.Consume(indexed);  // a replay changes nothing
  EXPECT_EQ(store->Queue(QueueFilter()).total, 1);
  StudyEventContext deleted(StudyEvent{2, "c1", study.studyUid, "deleted", 0}, std::nullopt, nullptr,
                            nullptr);
  feeder.Consume(deleted);
  EXPECT_EQ(store->Queue(QueueFilter()).total, 0);
}

TEST_F(Reports, FhirDiagnosticReport) {
  Report report = Drafted("f1", drA);
  SignOutcome outcome = service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  Json::Value fhir = service->Fhir(outcome.report, *store->FindVersion(report.id, 1));
  EXPECT_EQ(fhir["resourceType"], "DiagnosticReport");
  EXPECT_EQ(fhir["status"], "final");
  EXPECT_EQ(fhir["code"]["coding"][0]["code"], "18748-4");
  EXPECT_EQ(fhir["conclusion"], "Normal.");
  EXPECT_EQ(fhir["imagingStudy"][0]["identifier"]["value"], "urn:oid:1.2.3.f1");
  EXPECT_EQ(fhir["basedOn"][0]["identifier"]["value"], "Af1");
  std::string pdf;
  Crypto::Base64Decode(fhir["presentedForm"][0]["data"].asString(), pdf);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(fhir["identifier"][1]["value"], outcome.version.contentHash);
}

TEST_F(Reports, PatientSeesOnlyReleasedFinalReports) {
  ReportsPortal portal(*service);
  Report report = Drafted("p1", drA);
  EXPECT_TRUE(portal.ReportOf("p1").isNull());
  service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  Json::Value shown = portal.ReportOf("p1");
  EXPECT_EQ(shown["status"], "final");
  EXPECT_EQ(shown["impression"], "Normal.");
  std::string pdf;
  EXPECT_TRUE(portal.PdfOf("p1", pdf));
  settings.releaseToPatientsAfterHours = 2;
  EXPECT_TRUE(portal.ReportOf("p1").isNull());
  clock.Advance(2 * 3600 * 1000 + 1000);
  EXPECT_FALSE(portal.ReportOf("p1").isNull());
  settings.releaseToPatientsAfterHours = -1;
  EXPECT_TRUE(portal.ReportOf("p1").isNull());
  EXPECT_FALSE(portal.PdfOf("p1", pdf));
}

TEST_F(Reports, DeliveryStoresThePdfInTheStudyOnce) {
  Report report = Drafted("d1", drA);
  SignOutcome outcome = service->Sign(report.id, "pw-dr.a", Caller{drA, ""});
  orthanc.Set("POST /tools/create-dicom", Canned(R"({"ID": "pdf-instance-1"})"));
  DatabaseLeases leases(*database, clock);
  ReportDelivery delivery(*service, orthanc, nullptr, site, settings, *feed, audit, leases);
  std::vector<std::string> heard;
  delivery.AddListener([&heard](const SignedReport& signedReport) {
    heard.push_back(signedReport.diagnosticReport["status"].asString());
  });
  delivery.RunOnce();
  ASSERT_EQ(orthanc.posted.size(), 1u);
  Json::Value request = Canned(orthanc.posted[0].second);
  EXPECT_EQ(request["Parent"], "d1");
  EXPECT_EQ(request["Tags"]["Modality"], "DOC");
  EXPECT_EQ(request["Content"].asString().rfind("data:application/pdf;base64,", 0), 0u);
  EXPECT_EQ(request["Tags"]["SOPInstanceUID"].asString().rfind("2.25.", 0), 0u);
  EXPECT_EQ(store->FindVersion(report.id, 1)->pdfInstance, "pdf-instance-1");
  EXPECT_EQ(heard, std::vector<std::string>{"final"});
  delivery.RunOnce();  // nothing left
  EXPECT_EQ(orthanc.posted.size(), 1u);
  EXPECT_EQ(audit.Count("report.stored"), 1);
  (void)outcome;
}

TEST(ReportDeliveryUids, DerivedUidsAreStableAndValid) {
  const std::string uid = ReportDelivery::DerivedUid("HOS-001|report|1");
  EXPECT_EQ(uid, ReportDelivery::DerivedUid("HOS-001|report|1"));
  EXPECT_NE(uid, ReportDelivery::DerivedUid("HOS-001|report|2"));
  EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(uid.size(), 64u);
  EXPECT_NE(uid[5], '0');
  for (size_t i = 5; i < uid.size(); i++) EXPECT_TRUE(uid[i] >= '0' && uid[i] <= '9');
}

// --- the PDF ---------------------------------------------------------------------------

TEST(ReportPdfRendering, RendersTextAndRefusesTooManyPages) {
  ReportDocument document;
  document.hospitalName = "General Hospital";
  document.status = "FINAL";
  document.patient = {{"Name", "DOE, JANE"}, {"Patient ID", "P1"}};
  document.sections = {{"Findings", "<b>bold?</b> Ünïcödé ✓ 日本"}, {"Impression", "Normal."}};
  document.signature = "Signed by dr.a (radiologist) on 2026-11-27 10:15 UTC";
  document.hash = std::string(64, 'a');
  const std::string pdf = RenderReportPdf(document);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_GT(pdf.size(), 1000u);
  document.maxPages = 2;
  std::string lines;
  for (int i = 0; i < 400; i++) lines += "Line " + std::to_string(i) + " of a long finding.\n";
  document.sections.push_back({"More", lines});
  EXPECT_THROW(RenderReportPdf(document), ReportRenderError);
  PdfRenderer renderer;
  EXPECT_THROW(renderer.Render(document), ReportRenderError);
  document.maxPages = 20;
  EXPECT_EQ(renderer.Render(document).rfind("%PDF-", 0), 0u);
}

// --- live updates -------------------------------------------------------------------------

TEST(ReportChangeFeed, CapsWaitersAndWakesOnNotify) {
  std::atomic<int64_t> latest{5};
  ChangeFeed feed(1, [&latest] { return latest.load(); });
  {
    ChangeFeed::Slot first = feed.TryEnter();
    EXPECT_TRUE(first.Granted());
    EXPECT_FALSE(feed.TryEnter().Granted());
    EXPECT_EQ(feed.Refused(), 1);
    EXPECT_EQ(feed.Waiting(), 1);
  }
  EXPECT_EQ(feed.Waiting(), 0);
  EXPECT_EQ(feed.WaitAfter(4, std::chrono::milliseconds(10)), 5);  // already newer
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(feed.WaitAfter(5, std::chrono::milliseconds(50)), 5);  // times out
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(45));
  std::thread notifier([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    latest = 6;
    feed.Notify(6);
  });
  const auto waited = std::chrono::steady_clock::now();
  EXPECT_EQ(feed.WaitAfter(5, std::chrono::seconds(5)), 6);
  EXPECT_LT(std::chrono::steady_clock::now() - waited, std::chrono::seconds(2));
  notifier.join();
  feed.Stop();
  EXPECT_EQ(feed.WaitAfter(6, std::chrono::seconds(5)), 6);  // returns at once when stopping
}

// --- glossary and settings ------------------------------------------------------------------

TEST(ReportGlossaryTerms, FindsWholeWordsAndPlurals) {
  std::vector<std::string> found;
  for (const GlossaryTerm& term : TermsIn("Two Nodules; small pleural EFFUSION. Unremarkable otherwise."))
    found.push_back(term.term);
  EXPECT_EQ(found, (std::vector<std::string>{"unremarkable", "nodule", "effusion"}));
  EXPECT_TRUE(TermsIn("massive").empty());
}

TEST(ReportsSettingsReading, DefaultsAndLimits) {
  Json::Value orthanc(Json::objectValue);
  Configuration config = LoadConfiguration(orthanc);
  EXPECT_TRUE(config.reports.enabled);
  EXPECT_EQ(config.reports.EffectiveMaxWaiting(), 12);
  EXPECT_EQ(config.reports.releaseToPatientsAfterHours, 0);
  EXPECT_EQ(config.reports.TurnaroundSeconds("stat"), 3600);
  orthanc["HttpThreadsCount"] = 8;
  orthanc["HospitalBridge"]["Reports"]["LiveUpdates"]["MaxWaiting"] = 8;
  EXPECT_THROW(LoadConfiguration(orthanc), StartupError);
  orthanc["HospitalBridge"]["Reports"]["LiveUpdates"]["MaxWaiting"] = 0;
  EXPECT_EQ(LoadConfiguration(orthanc).reports.EffectiveMaxWaiting(), 2);
  orthanc["HospitalBridge"]["Reports"]["Residents"].append("not a name!");
  EXPECT_THROW(LoadConfiguration(orthanc), StartupError);
}
