// The audit trail without a server: chaining, tamper detection, pruning,
// the exports' required fields, syslog framing, and the classification of
// Orthanc's routes.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "Audit/AuditExport.h"
#include "Audit/AuditRecorder.h"
#include "Audit/AuditRoutes.h"
#include "Audit/AuditStore.h"
#include "Audit/CoreAccessAuditor.h"
#include "Audit/StoredReporter.h"
#include "Audit/SyslogForwarder.h"
#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
AuditEvent Event(const std::string& action, const std::string& actor, int64_t timeMs,
                 const std::string& patient = "PAT-1") {
  AuditEvent event;
  event.timeMs = timeMs;
  event.actorName = actor;
  event.actorRole = "reception";
  event.actorKind = "user";
  event.sourceIp = "10.0.0.7";
  event.action = action;
  event.patientId = patient;
  event.studyUid = "1.2.3";
  event.detail["path"] = "/studies/x";
  return event;
}

class Audit : public ::testing::Test {
 protected:
  void SetUp() override {
    database = MigratedMemoryDatabase();
    store = std::make_unique<AuditStore>(*database);
    std::vector<AuditEvent> events;
    for (int i = 0; i < 10; i++)
      events.push_back(Event(i % 2 ? "study.viewed" : "login", "desk", 1000000 + i * 1000));
    store->Append(events);
  }
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<AuditStore> store;
};

class CollectingSink : public IAuditSink {
 public:
  void Record(AuditEvent event) override { events.push_back(std::move(event)); }
  std::vector<AuditEvent> events;
};
}  // namespace

TEST_F(Audit, EventsAreChainedAndVerify) {
  ChainVerdict verdict = store->Verify();
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(10, verdict.checked);
  AuditPage page = store->Query(AuditFilter());
  ASSERT_EQ(10u, page.events.size());
  EXPECT_EQ(10, page.events[0].id) << "newest first";
  EXPECT_EQ(page.events[1].hash, page.events[0].prevHash);
  EXPECT_EQ(64u, page.events[0].hash.size());
}

TEST_F(Audit, AnEditedRowIsNamed) {
  ExecuteSql(*database, "UPDATE audit_events SET outcome = 'denied' WHERE id = 4");
  ChainVerdict verdict = store->Verify();
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(4, verdict.brokenId);
  EXPECT_NE(std::string::npos, verdict.reason.find("changed"));
}

TEST_F(Audit, ARemovedRowIsNamed) {
  ExecuteSql(*database, "DELETE FROM audit_events WHERE id = 6");
  ChainVerdict verdict = store->Verify();
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(6, verdict.brokenId);
  EXPECT_NE(std::string::npos, verdict.reason.find("missing"));
}

TEST_F(Audit, ARewrittenRowWithARecomputedHashBreaksTheNextLink) {
  AuditEvent forged = store->Query(AuditFilter()).events[6];  // id 4
  forged.actorName = "nobody";
  forged.hash = AuditEvent::ChainHash(forged.prevHash, forged.Canonical());
  {
    Transaction transaction(*database, TransactionMode::kWrite);
    Statement rewrite(transaction, "UPDATE audit_events SET actor_name = ?, hash = ? WHERE id = ?");
    rewrite.Bind(1, forged.actorName).Bind(2, forged.hash).Bind(3, forged.id).Run();
    transaction.Commit();
  }
  ChainVerdict verdict = store->Verify();
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(5, verdict.brokenId);
}

TEST_F(Audit, PruningKeepsTheChainVerifiable) {
  EXPECT_EQ(5, store->PruneBefore(1005000));
  ChainVerdict verdict = store->Verify();
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(5, verdict.checkpointId);
  EXPECT_EQ(5, verdict.checked);
  std::vector<AuditEvent> more = {Event("logout", "desk", 2000000)};
  store->Append(more);
  EXPECT_EQ(11, more[0].id);
  EXPECT_TRUE(store->Verify().ok);
}

TEST_F(Audit, QueriesFilter) {
  std::vector<AuditEvent> other = {Event("study.deleted", "admin", 3000000, "PAT-2")};
  store->Append(other);
  AuditFilter byPatient;
  byPatient.patientId = "PAT-2";
  EXPECT_EQ(1, store->Query(byPatient).total);
  AuditFilter byAction;
  byAction.action = "login";
  EXPECT_EQ(5, store->Query(byAction).total);
  AuditFilter byTime;
  byTime.fromMs = 1002000;
  byTime.toMs = 1004000;
  EXPECT_EQ(2, store->Query(byTime).total);
  AuditFilter byActor;
  byActor.actor = "admin";
  EXPECT_EQ("study.deleted", store->Query(byActor).events.at(0).action);
}

TEST(AuditTimes, ParseDatesAndDatetimes) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseAuditTime("2026-11-22", false, ms));
  EXPECT_EQ("2026-11-22T00:00:00.000Z", Time::FormatIsoUtcMilliseconds(ms));
  ASSERT_TRUE(ParseAuditTime("2026-11-22", true, ms));
  EXPECT_EQ("2026-11-23T00:00:00.000Z", Time::FormatIsoUtcMilliseconds(ms))
      << "a date as upper bound ends the day";
  ASSERT_TRUE(ParseAuditTime("2026-11-22T12:13:14.5Z", false, ms));
  EXPECT_EQ("2026-11-22T12:13:14.500Z", Time::FormatIsoUtcMilliseconds(ms));
  for (const char* bad :
       {"2026-13-01", "yesterday", "2026-11-22T25:00:00Z", "2026-11-22T10:00:00+02:00", ""}) {
    EXPECT_FALSE(ParseAuditTime(bad, false, ms)) << bad;
  }
}

TEST(AuditExports, FhirAuditEventsCarryEveryRequiredField) {
  AuditEvent event = Event("study.downloaded", "desk", 1763800000123);
  event.id = 42;
  Json::Value fhir = ToFhirAuditEvent(event, AuditSource{"HOS-001", "General Hospital"});
  EXPECT_EQ("AuditEvent", fhir["resourceType"].asString());
  EXPECT_TRUE(fhir["type"]["system"].isString() && fhir["type"]["code"].isString());
  EXPECT_EQ("110106", fhir["type"]["code"].asString());
  EXPECT_EQ("2025-11-22T08:26:40.123Z", fhir["recorded"].asString());
  ASSERT_EQ(1u, fhir["agent"].size());
  EXPECT_TRUE(fhir["agent"][0]["requestor"].isBool());
  EXPECT_EQ("desk", fhir["agent"][0]["who"]["display"].asString());
  EXPECT_TRUE(fhir["source"]["observer"].isObject());
  EXPECT_EQ("urn:oid:1.2.3", fhir["entity"][0]["what"]["identifier"]["value"].asString());
  EXPECT_EQ("Patient/PAT-1", fhir["entity"][1]["what"]["reference"].asString());
}

TEST(AuditExports, DicomAuditMessagesAreEscapedXml) {
  AuditEvent event = Event("study.deleted", "<evil \"user\">", 1000);
  event.outcome = "denied";
  std::string xml = ToDicomAuditMessage(event, AuditSource{"HOS-001", "General Hospital"});
  EXPECT_NE(std::string::npos, xml.find("EventActionCode=\"D\""));
  EXPECT_NE(std::string::npos, xml.find("EventOutcomeIndicator=\"4\""));
  EXPECT_NE(std::string::npos, xml.find("UserID=\"&lt;evil &quot;user&quot;&gt;\""));
  EXPECT_EQ(std::string::npos, xml.find("<evil"));
  EXPECT_NE(std::string::npos, xml.find("<AuditSourceIdentification AuditSourceID=\"HOS-001\">"));
}

TEST(AuditExports, IllFormedUtf8StoredEarlierStillExportsAsValidJsonAndXml) {
  // A user name typed at login with bytes that are not UTF-8, stored before
  // names were checked: an ATNA repository would reject the whole batch.
  AuditEvent event = Event("login.failed", std::string("eve\xff\xfe\xc3(x"), 1000);
  event.detail["reason"] = std::string("bad \xed\xa0\x80 surrogate");
  const std::string json =
      JsonText::Write(ToFhirAuditEvent(event, AuditSource{"HOS-001", "General Hospital"}));
  EXPECT_TRUE(Text::IsValidUtf8(json));
  Json::Value parsed;
  Json::CharReaderBuilder strict;
  Json::CharReaderBuilder::strictMode(&strict.settings_);
  std::string errors;
  std::unique_ptr<Json::CharReader> reader(strict.newCharReader());
  EXPECT_TRUE(reader->parse(json.data(), json.data() + json.size(), &parsed, &errors)) << errors;
  EXPECT_NE(std::string::npos, parsed["agent"][0]["name"].asString().find("eve\xEF\xBF\xBD"));

  const std::string xml = ToDicomAuditMessage(event, AuditSource{"HOS-001", "General Hospital"});
  EXPECT_TRUE(Text::IsValidUtf8(xml));
  EXPECT_EQ(std::string::npos, xml.find('\xff'));
}

TEST(AuditExports, TheHashOfAnOldEventWithIllFormedBytesStillVerifies) {
  AuditEvent event = Event("login.failed", "x", 1000);
  event.detail["user"] = std::string(
      "a\xff"
      "b");
  const std::string canonical = event.Canonical();
  EXPECT_NE(std::string::npos, canonical.find("a\xff"
                                              "b"))
      << "the chain hashes the bytes as stored";
}

TEST(Text, UserNamesSurviveAsAPathSegment) {
  EXPECT_TRUE(Text::IsUserName("dr.smith@ward-3"));
  EXPECT_FALSE(Text::IsUserName("."));
  EXPECT_FALSE(Text::IsUserName(".."));
  EXPECT_FALSE(Text::IsUserName("a b"));
  EXPECT_FALSE(Text::IsUserName("a/b"));
  EXPECT_FALSE(Text::IsUserName("eve\nadmin"));
  EXPECT_FALSE(Text::IsUserName(""));
  EXPECT_FALSE(Text::IsUserName(std::string(65, 'a')));
}

TEST(Text, LogLinesCannotBeForgedOrGarbled) {
  EXPECT_EQ("eve\\nW1127 forged line", Text::EscapeForLog("eve\nW1127 forged line"));
  EXPECT_EQ("a\\x1b[31m\\xff", Text::EscapeForLog("a\x1b[31m\xff"));
  EXPECT_EQ("D\xC3\xBCrer ^ Jos\xC3\xA9", Text::EscapeForLog("D\xC3\xBCrer ^ Jos\xC3\xA9"))
      << "UTF-8 is kept";
  EXPECT_TRUE(Text::IsValidUtf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(Text::IsValidUtf8("\xC0\xAF")) << "overlong";
  EXPECT_FALSE(Text::IsValidUtf8("\xED\xA0\x80")) << "surrogate";
  EXPECT_EQ(
      "a\xEF\xBF\xBD"
      "b",
      Text::ToValidUtf8("a\xff"
                        "b"));
}

TEST(JsonRequests, DeepOrIllFormedBodiesAreClientErrors) {
  auto status = [](const std::string& body) {
    try {
      JsonText::ParseRequestObject(body);
      return 200;
    } catch (const DomainError& e) {
      return HttpStatusOf(e.GetKind());
    }
  };
  EXPECT_EQ(400, status("{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + "}"));
  EXPECT_EQ(400, status("{\"username\":\"a\xff\"}"));
  EXPECT_EQ(400, status("{\"username\":\"\\udc00\"}")) << "a lone surrogate escape";
  EXPECT_EQ(400, status("{\"username\":\"a\\u0000b\"}"));
  EXPECT_EQ(200, status("{\"username\":\"J\xC3\xBCrgen\"}"));
}

TEST(AuditSyslog, MessagesAreRfc5424AndSpoolWhileTheRepositoryIsDown) {
  auto database = MigratedMemoryDatabase();
  AuditStore store(*database);
  // A TCP port with nobody listening yet.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(0, bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
  socklen_t length = sizeof(address);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  AuditSettings settings;
  settings.syslogEnabled = true;
  settings.syslogTcp = true;
  settings.syslogPort = ntohs(address.sin_port);
  settings.syslogRetryMs = 100;
  SyslogForwarder forwarder(*database, store, settings, AuditSource{"HOS-001", "General Hospital"}, nullptr);
  std::vector<AuditEvent> events = {Event("login", "desk", 1000), Event("logout", "desk", 2000)};
  store.Append(events);
  std::string message = forwarder.Format(events[0]);
  EXPECT_EQ(0u, message.find("<85>1 1970-01-01T00:00:01.000Z ")) << message;
  EXPECT_NE(std::string::npos, message.find(" HospitalBridge "));
  EXPECT_NE(std::string::npos, message.find("<AuditMessage>"));

  forwarder.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(2, forwarder.GetStatus().backlog) << "nobody listens: the events wait";
  EXPECT_NE("", forwarder.GetStatus().lastError);

  ASSERT_EQ(0, listen(listener, 4));
  int connection = -1;
  for (int i = 0; i < 50 && connection < 0; i++) {
    timeval timeout{0, 100000};
    fd_set ready;
    FD_ZERO(&ready);
    FD_SET(listener, &ready);
    if (select(listener + 1, &ready, nullptr, nullptr, &timeout) > 0)
      connection = accept(listener, nullptr, nullptr);
  }
  ASSERT_GE(connection, 0);
  std::string received;
  for (int i = 0; i < 50 && received.find("Logout") == std::string::npos; i++) {
    char buffer[8192];
    timeval timeout{0, 100000};
    setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ssize_t got = recv(connection, buffer, sizeof(buffer), 0);
    if (got > 0) received.append(buffer, static_cast<size_t>(got));
  }
  forwarder.Stop();
  close(connection);
  close(listener);
  // Octet counting: "<length> <message>" for each.
  size_t space = received.find(' ');
  ASSERT_NE(std::string::npos, space);
  size_t first = std::stoul(received.substr(0, space));
  EXPECT_EQ(message, received.substr(space + 1, first));
  EXPECT_NE(std::string::npos, received.find("Logout"));
  EXPECT_EQ(0, forwarder.GetStatus().backlog);
}

TEST(CoreAccess, OrthancRoutesAreClassified) {
  std::string resource;
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/studies/abc", resource));
  EXPECT_EQ("/studies/abc", resource);
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/instances/i1/preview", resource));
  EXPECT_EQ("/instances/i1", resource);
  EXPECT_EQ("study.downloaded", CoreAccessAuditor::Classify("GET", "/studies/abc/archive", resource));
  EXPECT_EQ("study.downloaded", CoreAccessAuditor::Classify("GET", "/instances/i1/file", resource));
  EXPECT_EQ("study.modified", CoreAccessAuditor::Classify("POST", "/studies/abc/modify", resource));
  EXPECT_EQ("study.deleted", CoreAccessAuditor::Classify("DELETE", "/series/s1", resource));
  EXPECT_EQ("study.exported", CoreAccessAuditor::Classify("POST", "/modalities/PACS/store", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/studies", resource)) << "lists of IDs are not events";
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/studies/abc/series", resource))
      << "the series' tags are the study's data";
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/studies/abc/shared-tags", resource));
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/series/s1/ordered-slices", resource));
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/instances/i1/header", resource));
  EXPECT_EQ("study.viewed",
            CoreAccessAuditor::Classify("GET", "/studies/abc/some-route-of-orthanc-2", resource))
      << "an unknown read is a view until it is known not to be";
  EXPECT_EQ("study.downloaded",
            CoreAccessAuditor::Classify("GET", "/instances/i1/attachments/dicom/data", resource));
  EXPECT_EQ("study.downloaded",
            CoreAccessAuditor::Classify("GET", "/instances/i1/attachments/dicom/compressed-data", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/instances/i1/attachments/dicom/size", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/studies/abc/statistics", resource));
  EXPECT_EQ("study.searched", CoreAccessAuditor::Classify("POST", "/tools/find", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/system", resource));
}

TEST(CoreAccess, RepeatedViewsCountOnceButRefusalsAlways) {
  auto database = MigratedMemoryDatabase();
  StudyIndexStore studies(*database);
  CollectingSink sink;
  CoreAccessAuditor auditor(sink, studies);
  HttpRequest request;
  request.method = "GET";
  request.path = "/studies/abc";
  Identity desk{true, 2, "desk", Role::kReception, false};
  auditor.Observe(request, desk, true);
  auditor.Observe(request, desk, true);
  EXPECT_EQ(1u, sink.events.size());
  request.method = "DELETE";
  auditor.Observe(request, desk, false);
  auditor.Observe(request, desk, false);
  ASSERT_EQ(3u, sink.events.size());
  EXPECT_EQ("denied", sink.events[2].outcome);
  EXPECT_EQ("study.deleted", sink.events[2].action);
}

TEST(StoredReports, OneEventPerStudyAndSenderThenOnlyWhatIsNew) {
  auto database = MigratedMemoryDatabase();
  AuditStore audit(*database);
  StoredReporter reporter(*database, audit);
  auto reported = [&] { return audit.Query(AuditFilter()).events; };  // newest first
  StudyRecord study;
  study.studyUid = "1.2.3";
  study.sources = {{"s1", "DicomProtocol", "CT1", "10.0.0.1", "", 0, 100},
                   {"s2", "DicomProtocol", "CT1", "10.0.0.1", "", 0, 50},
                   {"s3", "RestApi", "", "10.0.0.9", "tech", 0, 1}};
  reporter.Report(study, "PAT-1");
  ASSERT_EQ(2u, reported().size());
  EXPECT_EQ("CT1", reported()[1].actorName);
  EXPECT_EQ(150, reported()[1].detail["instances"].asInt());
  EXPECT_EQ("PAT-1", reported()[1].patientId);
  EXPECT_EQ("tech", reported()[0].actorName);
  reporter.Report(study);
  EXPECT_EQ(2u, reported().size()) << "nothing new, nothing reported";
  study.sources[1].instances = 60;
  reporter.Report(study);
  ASSERT_EQ(3u, reported().size());
  EXPECT_EQ(10, reported()[0].detail["instances"].asInt());
  EXPECT_TRUE(audit.Verify().ok) << "written into the chain like any other event";
}

TEST(AuditRecorderResolution, EventsAreTiedToTheRegistryPatient) {
  auto database = MigratedMemoryDatabase();
  AuditStore store(*database);
  StudyIndexStore studies(*database);
  PatientStore patients(*database);
  CannedOrthanc orthanc;
  SiteSettings site;
  site.siteId = "HOS-001";
  Patient jane;
  jane.lastName = "DOE";
  jane.identifiers = {{"HOS-001", "P1", ""}};
  std::string janeId = patients.Create(jane).id;
  StudyRecord record;
  record.orthancId = "study-o1";
  record.studyUid = "1.2.3";
  record.patientId = "P1";
  studies.Upsert(record);
  Json::Value parent;
  parent["ID"] = "study-o1";
  orthanc.Set("/instances/i1/study", parent);

  AuditRecorder recorder(store, studies, &patients, orthanc, site, AuditSettings{}, nullptr);
  AuditEvent viewed = Event("study.viewed", "desk", 0, "");
  viewed.studyUid.clear();
  viewed.orthancResource = "/instances/i1";
  recorder.Record(viewed);
  recorder.Flush();
  AuditEvent stored = store.Query(AuditFilter()).events.at(0);
  EXPECT_EQ("1.2.3", stored.studyUid);
  EXPECT_EQ(janeId, stored.patientId);
  EXPECT_EQ("/instances/i1", stored.detail["resource"].asString());
  EXPECT_GT(stored.timeMs, 0);
}

TEST(AuditExportCodes, ShareEventsKeepTheirDicomMeaning) {
  AuditSource source{"HOS-001", "General Hospital"};
  auto code = [&source](const char* action) {
    AuditEvent event;
    event.action = action;
    event.actorName = "share #1";
    event.actorKind = "share";
    return ToFhirAuditEvent(event, source)["type"]["code"].asString();
  };
  EXPECT_EQ("110114", code("share.opened"));
  EXPECT_EQ("110114", code("share.unlock_failed"));
  EXPECT_EQ("110113", code("share.denied"));
  EXPECT_EQ("110103", code("share.viewed"));
  EXPECT_EQ("110106", code("share.downloaded"));
  EXPECT_EQ("110106", code("share.created"));
}

TEST(AuditVocabulary, EveryActionIsNamedOnceWithItsCodesAndWords) {
  std::set<std::string> names;
  for (const AuditAction& action : AuditActions()) {
    EXPECT_TRUE(names.insert(action.name).second) << "twice: " << action.name;
    EXPECT_EQ(6u, std::string(action.eventCode).size()) << action.name;
    EXPECT_EQ(1u, std::string(action.actionCode).size()) << action.name;
    EXPECT_FALSE(std::string(action.words).empty()) << action.name;
    EXPECT_FALSE(std::string(action.plainWords).empty()) << action.name;
  }
  for (const char* used : {"login", "login.failed", "study.viewed", "study.searched", "share.opened",
                           "request.refused", "dicom.stored", "federation.retrieve", "system.started"}) {
    EXPECT_EQ(1u, names.count(used)) << used;
  }
  EXPECT_STREQ("110100", AuditActionOf("something.old").eventCode) << "unknown: generic application activity";
}

TEST(AuditVocabulary, OneWayToSayWhoActed) {
  Identity peer{true, 3, "hos-002", Role::kPeer, false};
  AuditEvent event = MakeAuditEvent("federation.query.answered", AuditActor::Of(peer, "10.0.0.2"));
  EXPECT_EQ("peer", event.actorKind);
  EXPECT_EQ("peer", event.actorRole);
  EXPECT_EQ("10.0.0.2", event.sourceIp);
  EXPECT_EQ("share", MakeAuditEvent("share.opened", AuditActor::PatientLink(12, "")).actorKind);
  EXPECT_EQ("share #12", MakeAuditEvent("share.opened", AuditActor::PatientLink(12, "")).actorName);
  EXPECT_EQ("dicom", MakeAuditEvent("dicom.stored", AuditActor::DicomSender("CT1", "")).actorKind);
  EXPECT_EQ("system", MakeAuditEvent("system.started", AuditActor::System()).actorKind);
}

// Routes of newer Orthancs that read or change studies without naming one in
// the path (Security/PermissionTable.cpp has their permissions).
TEST(CoreAccess, NewerOrthancRoutesAreClassified) {
  std::string resource;
  for (const char* tool : {"/tools/create-archive", "/tools/create-media", "/tools/create-media-extended"}) {
    EXPECT_EQ("study.downloaded", CoreAccessAuditor::Classify("GET", tool, resource)) << tool << " (1.12.2)";
    EXPECT_EQ("study.downloaded", CoreAccessAuditor::Classify("POST", tool, resource)) << tool;
  }
  EXPECT_EQ("study.downloaded", CoreAccessAuditor::Classify("GET", "/jobs/j1/archive", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/jobs/j1", resource)) << "a job's state names no data";
  EXPECT_EQ("", CoreAccessAuditor::Classify("DELETE", "/jobs/j1/archive", resource));
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("POST", "/tools/bulk-content", resource));
  EXPECT_EQ("study.deleted", CoreAccessAuditor::Classify("POST", "/tools/bulk-delete", resource));
  EXPECT_EQ("study.modified", CoreAccessAuditor::Classify("POST", "/tools/bulk-modify", resource));
  EXPECT_EQ("study.modified", CoreAccessAuditor::Classify("POST", "/tools/bulk-anonymize", resource));
  EXPECT_EQ("", resource);
  EXPECT_EQ("study.viewed", CoreAccessAuditor::Classify("GET", "/studies/abc/labels", resource))
      << "labels (1.12) are read under a study, like its metadata";
  EXPECT_EQ("", CoreAccessAuditor::Classify("GET", "/tools/labels", resource));
  EXPECT_EQ("", CoreAccessAuditor::Classify("POST", "/tools/count-resources", resource));
}
