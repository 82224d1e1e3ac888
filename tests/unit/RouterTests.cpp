#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Configuration.h"
#include "Router/DeliveryQueue.h"
#include "Router/FhirSenders.h"
#include "Router/RouterService.h"
#include "Router/RoutingRules.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
Json::Value Parse(const std::string& text) { return JsonText::ParseConfiguration(text, "test"); }

std::string StartupMessage(const std::string& orthancJson) {
  try {
    LoadConfiguration(Parse(orthancJson));
  } catch (const StartupError& e) {
    return e.what();
  }
  return "";
}

// Answers HTTP calls from a script, by "METHOD url-prefix"; records every call.
class ScriptedHttp : public IHttpClient {
 public:
  struct Reply {
    std::string key;  // "POST https://x/..." prefix
    HttpResult result;
    bool once = false;
  };
  HttpResult Send(const HttpCall& call) override {
    std::lock_guard<std::mutex> lock(mutex);
    calls.push_back(call);
    const std::string key = call.method + " " + call.url;
    for (auto it = replies.begin(); it != replies.end(); ++it) {
      if (key.rfind(it->key, 0) == 0) {
        HttpResult result = it->result;
        if (it->once) replies.erase(it);
        return result;
      }
    }
    HttpResult none;
    none.error = "Couldn't connect to server";
    return none;
  }
  void On(const std::string& key, long status, const std::string& body, bool once = false) {
    HttpResult result;
    result.reached = true;
    result.status = status;
    result.body = body;
    replies.push_front(Reply{key, result, once});
  }
  std::vector<HttpCall> CallsTo(const std::string& prefix) {
    std::vector<HttpCall> out;
    for (const HttpCall& c : calls) {
      if ((c.method + " " + c.url).rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }
  static std::string Header(const HttpCall& call, const std::string& name) {
    for (const auto& [key, value] : call.headers) {
      if (key == name) return value;
    }
    return "";
  }
  std::deque<Reply> replies;
  std::vector<HttpCall> calls;
  std::mutex mutex;
};

class RecordingAudit : public IAuditSink {
 public:
  void Record(AuditEvent event) override { events.push_back(event); }
  int Count(const std::string& action) const {
    int n = 0;
    for (const AuditEvent& e : events) n += e.action == action ? 1 : 0;
    return n;
  }
  std::vector<AuditEvent> events;
};

const char kStudy[] = "s-1";

// A study of `count` CT instances in Orthanc.
void PutStudy(CannedOrthanc& orthanc, int count, const std::string& accession = "ACC1") {
  Json::Value study;
  study["ID"] = kStudy;
  study["MainDicomTags"]["StudyInstanceUID"] = "1.2.3";
  study["MainDicomTags"]["AccessionNumber"] = accession;
  study["MainDicomTags"]["StudyDate"] = "20261127";
  study["MainDicomTags"]["StudyTime"] = "101500";
  study["MainDicomTags"]["StudyDescription"] = "CT HEAD";
  study["PatientMainDicomTags"]["PatientID"] = "P1";
  study["PatientMainDicomTags"]["PatientName"] = "DOE^JANE";
  orthanc.Set(std::string("/studies/") + kStudy, study);
  Json::Value series(Json::arrayValue);
  Json::Value s;
  s["ID"] = "se-1";
  s["MainDicomTags"]["SeriesInstanceUID"] = "1.2.3.1";
  s["MainDicomTags"]["Modality"] = "CT";
  s["MainDicomTags"]["SeriesNumber"] = "1";
  series.append(s);
  orthanc.Set(std::string("/studies/") + kStudy + "/series", series);
  Json::Value instances(Json::arrayValue);
  for (int i = 1; i <= count; i++) {
    Json::Value instance;
    instance["ID"] = "i-" + std::to_string(i);
    instance["ParentSeries"] = "se-1";
    instance["MainDicomTags"]["SOPInstanceUID"] = "1.2.3.1." + std::to_string(i);
    instance["MainDicomTags"]["InstanceNumber"] = std::to_string(i);
    instances.append(instance);
    orthanc.answers["/instances/i-" + std::to_string(i) + "/file"] = "DICM-" + std::to_string(i);
    orthanc.answers["/instances/i-" + std::to_string(i) + "/metadata/SopClassUid"] =
        "1.2.840.10008.5.1.4.1.1.2";
  }
  orthanc.Set(std::string("/studies/") + kStudy + "/instances", instances);
}

StudyRecord Record(int instances, const std::string& accession = "ACC1") {
  StudyRecord study;
  study.orthancId = kStudy;
  study.studyUid = "1.2.3";
  study.accessionNumber = accession;
  study.modalities = {"CT"};
  study.description = "CT HEAD";
  study.instanceCount = instances;
  study.patientName = "DOE^JANE";
  StudySource source;
  source.aet = "CT01";
  study.sources.push_back(source);
  return study;
}

// STOW-RS answer confirming these SOP Instance UIDs.
std::string StowAnswer(const std::vector<std::string>& sops) {
  Json::Value answer(Json::objectValue);
  answer["00081199"]["vr"] = "SQ";
  answer["00081199"]["Value"] = Json::Value(Json::arrayValue);
  for (const std::string& sop : sops) {
    Json::Value item;
    item["00081155"]["vr"] = "UI";
    item["00081155"]["Value"].append(sop);
    answer["00081199"]["Value"].append(item);
  }
  return JsonText::Write(answer);
}

struct RouterFixture : public ::testing::Test {
  RouterFixture() : database(MigratedMemoryDatabase()), queue(*database, clock) {}

  void Build(const std::string& routerJson) {
    setenv("HB_TEST_ROUTER_SECRET", "s3cr3t-value", 1);
    const Json::Value orthancConfig =
        Parse(R"({"HospitalBridge": {"Modules": {"Router": true}, "Router": )" + routerJson + "}}");
    config = LoadConfiguration(orthancConfig);
    service = std::make_unique<RouterService>(config.router, queue, orthanc, http, audit, clock);
    service->SetSleep([](int) {});
    service->SetRandom([] { return 0.0; });
  }
  Delivery Only() {
    std::vector<Delivery> all = queue.List(DeliveryFilter());
    EXPECT_EQ(1u, all.size());
    return all.empty() ? Delivery() : all[0];
  }
  // Runs what is due now, as the thread would.
  void Run() { service->RunDue(); }

  ManualClock clock;
  std::unique_ptr<SqliteDatabase> database;
  DeliveryQueue queue;
  CannedOrthanc orthanc;
  ScriptedHttp http;
  RecordingAudit audit;
  Configuration config;
  std::unique_ptr<RouterService> service;
};

const char kDicomWeb[] =
    R"({"Destinations": [{"Name": "pacs-b", "Type": "dicomweb", "Url": "http://b/dicom-web",
  "BatchSize": 2}], "Rules": [{"Name": "ct", "Modalities": ["CT"], "Destinations": ["pacs-b"]}],
  "Retry": {"MinDelaySeconds": 10, "MaxDelaySeconds": 100, "MaxAttempts": 3}})";

const char kSatusehat[] = R"({"Destinations": [{"Name": "ss", "Type": "satusehat", "Url": "https://ss.test",
  "OrganizationId": "100026", "Username": "client-key", "SecretEnvironmentVariable": "HB_TEST_ROUTER_SECRET"}],
  "Rules": [{"Name": "all", "Destinations": ["ss"]}, {"Name": "reports", "Trigger": "report", "Destinations": ["ss"]}],
  "TimeZoneOffset": "+07:00"})";
}  // namespace

// --- settings -------------------------------------------------------------

TEST(RouterSettings, RuleNamingAnUnknownDestinationStopsTheStart) {
  const std::string message = StartupMessage(
      R"({"HospitalBridge": {"Router": {"Destinations": [{"Name": "b", "Type": "dicomweb", "Url": "http://b"}],
          "Rules": [{"Name": "r", "Destinations": ["nowhere"]}]}}})");
  EXPECT_NE(std::string::npos, message.find("Router.Rules[0].Destinations")) << message;
  EXPECT_NE(std::string::npos, message.find("nowhere")) << message;
}

TEST(RouterSettings, SecretsComeFromTheEnvironmentAndAreRequired) {
  unsetenv("HB_TEST_MISSING_SECRET");
  const std::string message = StartupMessage(
      R"({"HospitalBridge": {"Router": {"Destinations": [{"Name": "b", "Type": "dicomweb", "Url": "http://b",
          "Auth": "bearer", "SecretEnvironmentVariable": "HB_TEST_MISSING_SECRET"}]}}})");
  EXPECT_NE(std::string::npos, message.find("HB_TEST_MISSING_SECRET")) << message;
  setenv("HB_TEST_ROUTER_SECRET", "abc-secret", 1);
  const Configuration config = LoadConfiguration(Parse(
      R"({"HospitalBridge": {"Router": {"Destinations": [{"Name": "b", "Type": "dicomweb", "Url": "http://b/",
          "Auth": "bearer", "SecretEnvironmentVariable": "HB_TEST_ROUTER_SECRET"}]}}})"));
  ASSERT_EQ(1u, config.router.destinations.size());
  EXPECT_EQ("abc-secret", config.router.destinations[0].secret);
  EXPECT_EQ("http://b", config.router.destinations[0].url);
}

TEST(RouterSettings, SatusehatEnvironmentsAndUnknownModalities) {
  setenv("HB_TEST_ROUTER_SECRET", "abc-secret", 1);
  const Configuration config = LoadConfiguration(Parse(
      R"({"HospitalBridge": {"Router": {"Destinations": [{"Name": "ss", "Type": "satusehat", "Environment": "staging",
          "OrganizationId": "100026", "Username": "k", "SecretEnvironmentVariable": "HB_TEST_ROUTER_SECRET"}]}}})"));
  EXPECT_EQ("https://api-satusehat-stg.dto.kemkes.go.id", config.router.destinations[0].url);
  EXPECT_EQ("https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1/accesstoken?grant_type=client_credentials",
            config.router.destinations[0].tokenUrl);
  const std::string message = StartupMessage(
      R"({"DicomModalities": {"pacs": ["PACS", "127.0.0.1", 104]}, "HospitalBridge": {"Router": {"Destinations":
          [{"Name": "m", "Type": "dicom", "Target": "other"}]}}})");
  EXPECT_NE(std::string::npos, message.find("has no \"other\"")) << message;
}

TEST(RouterSettings, NeedsTheStudyIndexAndRefusesUnknownOptions) {
  std::string message = StartupMessage(
      R"({"HospitalBridge": {"Modules": {"Router": true, "StudyIndex": false, "Shares": false}}})");
  EXPECT_NE(std::string::npos, message.find("Modules.Router")) << message;
  EXPECT_NE(std::string::npos, message.find("Modules.StudyIndex")) << message;
  message = StartupMessage(
      R"({"HospitalBridge": {"Router": {"Destinations": [{"Name": "b", "Type": "dicomweb", "Url": "http://b",
          "Secret": "in-the-file"}]}}})");
  EXPECT_NE(std::string::npos, message.find("Router.Destinations[0].Secret")) << message;
  EXPECT_EQ(std::string::npos, message.find("in-the-file")) << message;
}

TEST(RouterSettings, Schedules) {
  int from = 0;
  int until = 0;
  ASSERT_TRUE(ParseSchedule("20:00-06:30", from, until));
  EXPECT_TRUE(InSchedule(from, until, 23 * 60));
  EXPECT_TRUE(InSchedule(from, until, 6 * 60));
  EXPECT_FALSE(InSchedule(from, until, 12 * 60));
  EXPECT_FALSE(ParseSchedule("25:00-06:00", from, until));
  EXPECT_TRUE(InSchedule(-1, -1, 0));
}

TEST(RouterSettings, OrthancResumingStoreJobsIsNoticed) {
  const auto resumes = [](const std::string& saveJobs, const std::string& type) {
    const Configuration config = LoadConfiguration(Parse(
        R"({"DicomModalities": {"pacs": ["PACS", "127.0.0.1", 104]}, "OrthancPeers": {"b": ["http://b/"]},)" +
        saveJobs +
        R"("HospitalBridge": {"Modules": {"Router": true}, "Router": {"Destinations": [{"Name": "d",
        "Type": ")" +
        type + R"(", "Target": ")" + (type == "peer" ? "b" : "pacs") + R"(", "Url": "http://x"}]}}})"));
    return config.router.orthancResumesStoreJobs;
  };
  EXPECT_TRUE(resumes("", "dicom"));  // Orthanc's default: "SaveJobs": true
  EXPECT_TRUE(resumes(R"("SaveJobs": true,)", "peer"));
  EXPECT_FALSE(resumes(R"("SaveJobs": false,)", "dicom"));
  EXPECT_FALSE(resumes(R"("SaveJobs": false,)", "peer"));
  EXPECT_FALSE(resumes("", "dicomweb"));
}

// --- rules, back-off, classification --------------------------------------

TEST(RouterRules, ConditionsAllHold) {
  RouterRule rule;
  rule.modalities = {"CT", "MR"};
  rule.callingAets = {"CT01"};
  rule.descriptionPattern = "^ct (head|chest)";
  StudyFacts facts;
  facts.modalities = {"SR", "CT"};
  facts.callingAets = {"CT01"};
  facts.description = "CT Head w/o contrast";
  EXPECT_TRUE(RuleSelects(rule, facts));
  facts.description = "CT ABDOMEN";
  EXPECT_FALSE(RuleSelects(rule, facts));
  facts.description = "CT CHEST";
  facts.callingAets = {"US02"};
  EXPECT_FALSE(RuleSelects(rule, facts));
  RouterRule institutions;
  institutions.institutions = {"General Hospital"};
  facts.institution = "GENERAL HOSPITAL ";
  EXPECT_TRUE(RuleSelects(institutions, facts));
  PatientConsent refused;
  refused.federationPermitted = false;
  EXPECT_FALSE(ConsentPermits(RuleConsent::kFederation, refused));
  EXPECT_TRUE(ConsentPermits(RuleConsent::kNone, refused));
}

TEST(RouterRules, BackoffDoublesWithJitterUpToTheCap) {
  EXPECT_EQ(5000, BackoffMs(1, 10000, 100000, 0.0));
  EXPECT_EQ(10000, BackoffMs(1, 10000, 100000, 1.0));
  EXPECT_EQ(20000, BackoffMs(3, 10000, 100000, 0.0));
  EXPECT_EQ(100000, BackoffMs(30, 10000, 100000, 1.0));
  EXPECT_EQ(50000, BackoffMs(1000, 10000, 100000, 0.0));
}

TEST(RouterRules, AnswersAreClassified) {
  HttpResult none;
  none.error = "Connection refused";
  EXPECT_EQ(DeliveryProblem::Kind::kRetry, ProblemOf(none, "b").GetKind());
  HttpResult busy;
  busy.reached = true;
  busy.status = 503;
  EXPECT_EQ(DeliveryProblem::Kind::kRetry, ProblemOf(busy, "b").GetKind());
  HttpResult bad;
  bad.reached = true;
  bad.status = 400;
  bad.body = "bad\nthing";
  const DeliveryProblem problem = ProblemOf(bad, "b");
  EXPECT_EQ(DeliveryProblem::Kind::kFail, problem.GetKind());
  EXPECT_EQ("b answered HTTP 400: bad thing", std::string(problem.what()));
  HttpResult untrusted;
  untrusted.error = "SSL peer certificate or SSH remote key was not OK";
  untrusted.certificateRejected = true;
  const DeliveryProblem refused = ProblemOf(untrusted, "b");
  EXPECT_EQ(DeliveryProblem::Kind::kFail, refused.GetKind()) << "no retry makes a certificate trusted";
  EXPECT_NE(std::string::npos, std::string(refused.what()).find("certificate is not trusted"));
  EXPECT_EQ("token [secret] here", Scrub("token abcdef here", "abcdef"));
}

// --- the queue ------------------------------------------------------------

TEST(RouterQueue, OneDeliveryPerStudyAndDestinationUpdatedByNewInstances) {
  ManualClock clock;
  auto database = MigratedMemoryDatabase();
  DeliveryQueue queue(*database, clock);
  NewDelivery n;
  n.studyUid = "1.2";
  n.orthancId = "o";
  n.destination = "b";
  n.rule = "r";
  n.instancesReceived = 2;
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kCreated, queue.Enqueue(n));
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUnchanged, queue.Enqueue(n));
  Delivery d = queue.List(DeliveryFilter())[0];
  ASSERT_TRUE(queue.Claim(d.id));
  EXPECT_FALSE(queue.Claim(d.id));
  queue.RecordSent(d.id, {"a", "b"}, true);
  queue.MarkDelivered(d.id, "ok");
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUnchanged, queue.Enqueue(n));
  n.instancesReceived = 3;
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUpdated, queue.Enqueue(n));
  d = *queue.Find(d.id);
  EXPECT_EQ("queued", d.state);
  EXPECT_EQ("update: new instances", d.reason);
  EXPECT_EQ(2, d.instancesSent);
  EXPECT_EQ(1u, queue.List(DeliveryFilter()).size());
  // Sending when more come: sent again afterwards.
  ASSERT_TRUE(queue.Claim(d.id));
  n.instancesReceived = 4;
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUpdated, queue.Enqueue(n));
  queue.MarkDelivered(d.id, "ok");
  EXPECT_EQ("queued", queue.Find(d.id)->state);
  EXPECT_EQ("update: changed while it was sent", queue.Find(d.id)->reason);
  // A report signed again: the same delivery, its new version said.
  NewDelivery report = n;
  report.trigger = "report:7";
  report.payload = "{\"version\":1}";
  ASSERT_EQ(DeliveryQueue::EnqueueResult::kCreated, queue.Enqueue(report));
  const int64_t reportId = queue.ForStudy("1.2").back().id;
  ASSERT_TRUE(queue.Claim(reportId));
  queue.MarkDelivered(reportId, "ok");
  report.payload = "{\"version\":2}";
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUpdated, queue.Enqueue(report));
  EXPECT_EQ("update: a new signed version", queue.Find(reportId)->reason);
}

TEST(RouterQueue, WhatConsentWithheldIsCountedUntilItIsSentAfterAll) {
  ManualClock clock;
  auto database = MigratedMemoryDatabase();
  DeliveryQueue queue(*database, clock);
  queue.RecordDecision("1.2", "research-copy", "research", "not sent", "consent");
  queue.RecordDecision("1.2", "research-copy", "research", "not sent", "consent");  // routed again
  queue.RecordDecision("1.3", "research-copy", "research", "not sent", "consent");
  EXPECT_EQ(2, queue.Summary(0)["research"]["not_sent"].asInt());
  EXPECT_EQ(2u, queue.Decisions("", 10).size());
  NewDelivery n;
  n.studyUid = "1.2";
  n.orthancId = "o";
  n.destination = "research";
  n.rule = "research-copy";
  queue.Enqueue(n);  // the consent was given, the study routed again
  EXPECT_EQ(1, queue.Summary(0)["research"]["not_sent"].asInt());
  ASSERT_EQ(1u, queue.Decisions("", 10).size());
  EXPECT_EQ("1.3", queue.Decisions("", 10)[0]["study_uid"].asString());
}

TEST(RouterQueue, CrashRecoveryStaffActionsAndWaitingWakeUps) {
  ManualClock clock;
  auto database = MigratedMemoryDatabase();
  DeliveryQueue queue(*database, clock);
  NewDelivery n;
  n.studyUid = "1.2";
  n.orthancId = "o";
  n.destination = "b";
  n.rule = "r";
  n.accession = "A7";
  n.waitingReason = "ServiceRequest not found";
  queue.Enqueue(n);
  Delivery d = queue.List(DeliveryFilter())[0];
  EXPECT_EQ("waiting", d.state);
  queue.MarkWaiting(d.id, 600000, "ServiceRequest not found");
  EXPECT_TRUE(queue.Due(10).empty());
  EXPECT_EQ(0, queue.WakeWaitingForAccession("OTHER"));
  EXPECT_EQ(1, queue.WakeWaitingForAccession("A7"));
  ASSERT_EQ(1u, queue.Due(10).size());
  // The study routed again (its accession number fixed): due now, with it.
  queue.MarkWaiting(d.id, 600000, "no accession number");
  EXPECT_TRUE(queue.Due(10).empty());
  n.accession = "A8";
  EXPECT_EQ(DeliveryQueue::EnqueueResult::kUpdated, queue.Enqueue(n));
  ASSERT_EQ(1u, queue.Due(10).size());
  EXPECT_EQ("A8", queue.Due(10)[0].accession);
  ASSERT_TRUE(queue.Claim(d.id));
  EXPECT_EQ(1, queue.RequeueInterrupted());
  EXPECT_EQ("queued", queue.Find(d.id)->state);
  EXPECT_TRUE(queue.Cancel(d.id, "alice"));
  EXPECT_EQ("failed", queue.Find(d.id)->state);
  EXPECT_EQ("cancelled by alice", queue.Find(d.id)->reason);
  EXPECT_EQ(1, queue.ResendFailed(""));
  EXPECT_EQ(0, queue.Find(d.id)->attempts);
  const Json::Value backlog = queue.Backlog();
  EXPECT_EQ(1, backlog["queued"].asInt());
  // The study deleted (or replaced by reconciliation) before it was sent.
  queue.MarkWaiting(d.id, 600000, "no accession number");
  EXPECT_EQ(0, queue.CloseForDeletedStudy("other"));
  EXPECT_EQ(1, queue.CloseForDeletedStudy("o"));
  EXPECT_EQ("failed", queue.Find(d.id)->state);
  EXPECT_NE(std::string::npos, queue.Find(d.id)->reason.find("deleted from Orthanc"));
  EXPECT_EQ(0, queue.CloseForDeletedStudy("o")) << "a closed delivery stays as it is";
}

// --- sending ----------------------------------------------------------------

TEST_F(RouterFixture, DicomWebBatchesAndConfirmsEveryInstance) {
  Build(kDicomWeb);
  PutStudy(orthanc, 3);
  // Replies are looked up newest first.
  http.On("POST http://b/dicom-web/studies", 200, StowAnswer({"1.2.3.1.3"}), true);
  http.On("POST http://b/dicom-web/studies", 200, StowAnswer({"1.2.3.1.1", "1.2.3.1.2"}), true);
  EXPECT_EQ(1, service->Route(Record(3), PatientConsent()));
  Run();
  const Delivery d = Only();
  EXPECT_EQ("delivered", d.state) << d.reason;
  EXPECT_EQ(3, d.instancesSent);
  EXPECT_EQ(3, d.instancesConfirmed);
  EXPECT_EQ("http://b/dicom-web/studies/1.2.3", d.remoteUrl);
  const std::vector<HttpCall> posts = http.CallsTo("POST http://b/dicom-web/studies");
  ASSERT_EQ(2u, posts.size());
  EXPECT_NE(std::string::npos, ScriptedHttp::Header(posts[0], "Content-Type").find("multipart/related"));
  EXPECT_NE(std::string::npos, posts[0].body.find("DICM-2"));
  EXPECT_EQ(1, audit.Count("router.delivered"));
  // A new instance: an update sending it alone, never a second delivery.
  PutStudy(orthanc, 4);
  http.On("POST http://b/dicom-web/studies", 200, StowAnswer({"1.2.3.1.4"}), true);
  EXPECT_EQ(1, service->Route(Record(4), PatientConsent()));
  Run();
  EXPECT_EQ("delivered", Only().state);
  EXPECT_EQ(4, Only().instancesSent);
  const std::vector<HttpCall> all = http.CallsTo("POST http://b/dicom-web/studies");
  ASSERT_EQ(3u, all.size());
  EXPECT_EQ(std::string::npos, all[2].body.find("DICM-1"));
}

TEST_F(RouterFixture, UnreachableRetriesWithBackoffThenFails) {
  Build(kDicomWeb);
  PutStudy(orthanc, 1);
  service->Route(Record(1), PatientConsent());
  Run();
  Delivery d = Only();
  EXPECT_EQ("retrying", d.state);
  EXPECT_NE(std::string::npos, d.reason.find("did not answer")) << d.reason;
  EXPECT_EQ(clock.NowMs() + 5000, d.nextAttemptAtMs);
  Run();  // not due yet
  EXPECT_EQ(1, Only().attempts);
  clock.Advance(5000);
  Run();
  EXPECT_EQ(clock.NowMs() + 10000, Only().nextAttemptAtMs);
  clock.Advance(10000);
  Run();
  d = Only();
  EXPECT_EQ("failed", d.state);
  EXPECT_NE(std::string::npos, d.reason.find("gave up after 3 attempts")) << d.reason;
  EXPECT_EQ(1, audit.Count("router.failed"));
}

TEST_F(RouterFixture, GarbageFailsWithItsFirstBytes) {
  Build(kDicomWeb);
  PutStudy(orthanc, 1);
  http.On("POST http://b/dicom-web/studies", 200, "<html>Welcome to nginx</html>");
  service->Route(Record(1), PatientConsent());
  Run();
  const Delivery d = Only();
  EXPECT_EQ("failed", d.state);
  EXPECT_NE(std::string::npos, d.reason.find("<html>Welcome to nginx")) << d.reason;
  EXPECT_EQ(1, d.attempts);
}

TEST_F(RouterFixture, ConsentRefusalIsRecordedNotSent) {
  Build(kDicomWeb);
  PatientConsent refused;
  refused.federationPermitted = false;
  EXPECT_EQ(0, service->Route(Record(1), refused));
  EXPECT_TRUE(queue.List(DeliveryFilter()).empty());
  const Json::Value decisions = queue.Decisions("1.2.3", 10);
  ASSERT_EQ(1u, decisions.size());
  EXPECT_EQ("not sent", decisions[0]["decision"].asString());
  EXPECT_EQ(1, audit.Count("router.withheld"));
}

TEST_F(RouterFixture, RequiredOrderWaitsUntilItArrives) {
  Build(R"({"Destinations": [{"Name": "pacs-b", "Type": "dicomweb", "Url": "http://b/dicom-web"}],
      "Rules": [{"Name": "ordered", "RequireOrder": true, "Destinations": ["pacs-b"]}]})");
  bool ordered = false;
  service->SetOrderLookup(
      [&ordered](const std::string& accession) { return ordered && accession == "ACC1"; });
  PutStudy(orthanc, 1);
  service->Route(Record(1), PatientConsent());
  EXPECT_EQ("waiting", Only().state);
  EXPECT_EQ("no order for accession ACC1", Only().reason);
  http.On("POST http://b/dicom-web/studies", 200, StowAnswer({"1.2.3.1.1"}));
  Run();
  EXPECT_EQ("waiting", Only().state);
  ordered = true;
  service->OnOrderArrived("ACC1");
  Run();
  EXPECT_EQ("delivered", Only().state);
}

TEST_F(RouterFixture, AnOrderArrivingIsNoticedWithinSecondsNotAtTheSlowRecheck) {
  Build(R"({"Destinations": [{"Name": "pacs-b", "Type": "dicomweb", "Url": "http://b/dicom-web"}],
      "Rules": [{"Name": "ordered", "RequireOrder": true, "Destinations": ["pacs-b"]}],
      "WaitingRecheckSeconds": 3600})");
  bool ordered = false;
  int lookups = 0;
  service->SetOrderLookup([&](const std::string& accession) {
    lookups++;
    return ordered && accession == "ACC1";
  });
  PutStudy(orthanc, 1);
  http.On("POST http://b/dicom-web/studies", 200, StowAnswer({"1.2.3.1.1"}));
  service->Route(Record(1), PatientConsent());
  Run();
  EXPECT_EQ("waiting", Only().state);
  // The order arrives; no one tells the router. Within the order check
  // (not the hour of WaitingRecheckSeconds) it is sent.
  ordered = true;
  clock.Advance(RouterService::kOrderCheckMs + 1);
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  // Once delivered, it is no longer looked at.
  const int before = lookups;
  clock.Advance(RouterService::kOrderCheckMs + 1);
  Run();
  EXPECT_EQ(before, lookups);
}

// --- SATUSEHAT ----------------------------------------------------------------

namespace {
void PlatformWithOrder(ScriptedHttp& http) {
  http.On("POST https://ss.test/oauth2/v1/accesstoken?grant_type=client_credentials", 200,
          R"({"access_token": "tok-1", "expires_in": "14399"})");
  http.On("GET https://ss.test/fhir-r4/v1/ServiceRequest?identifier=", 200,
          R"({"resourceType": "Bundle", "total": 1, "entry": [{"resource": {"resourceType": "ServiceRequest",
              "id": "sr-9", "subject": {"reference": "Patient/P100"}, "encounter": {"reference": "Encounter/E5"},
              "code": {"coding": [{"system": "http://loinc.org", "code": "24725-4"}], "text": "CT kepala"}}}]})");
  http.On("GET https://ss.test/fhir-r4/v1/ImagingStudy?identifier=", 200,
          R"({"resourceType": "Bundle", "total": 0})");
  http.On("POST https://ss.test/fhir-r4/v1/ImagingStudy", 201,
          R"({"resourceType": "ImagingStudy", "id": "is-1"})");
  http.On("POST https://ss.test/dicom/v1/dicomWeb/studies", 200, R"({"ok": true})");
}
}  // namespace

TEST_F(RouterFixture, SatusehatBuildsTheExchangeOfTheSeed) {
  Build(kSatusehat);
  PutStudy(orthanc, 2);
  PlatformWithOrder(http);
  service->Route(Record(2), PatientConsent());
  Run();
  const Delivery d = Only();
  ASSERT_EQ("delivered", d.state) << d.reason;
  EXPECT_EQ("is-1", d.remoteId);
  EXPECT_EQ("https://ss.test/fhir-r4/v1/ImagingStudy/is-1", d.remoteUrl);

  const std::vector<HttpCall> token = http.CallsTo("POST https://ss.test/oauth2/");
  ASSERT_EQ(1u, token.size());
  EXPECT_EQ("client_id=client-key&client_secret=s3cr3t-value", token[0].body);
  const std::vector<HttpCall> search = http.CallsTo("GET https://ss.test/fhir-r4/v1/ServiceRequest");
  ASSERT_EQ(1u, search.size());
  EXPECT_EQ(
      "https://ss.test/fhir-r4/v1/ServiceRequest?identifier="
      "http%3A%2F%2Fsys-ids.kemkes.go.id%2Facsn%2F100026%7CACC1",
      search[0].url);
  EXPECT_EQ("Bearer tok-1", ScriptedHttp::Header(search[0], "Authorization"));

  const std::vector<HttpCall> created = http.CallsTo("POST https://ss.test/fhir-r4/v1/ImagingStudy");
  ASSERT_EQ(1u, created.size());
  Json::Value imaging;
  ASSERT_TRUE(JsonText::Parse(created[0].body, imaging));
  EXPECT_EQ("ImagingStudy", imaging["resourceType"].asString());
  EXPECT_EQ("http://sys-ids.kemkes.go.id/acsn/100026", imaging["identifier"][0]["system"].asString());
  EXPECT_EQ("ACSN", imaging["identifier"][0]["type"]["coding"][0]["code"].asString());
  EXPECT_EQ("ACC1", imaging["identifier"][0]["value"].asString());
  EXPECT_EQ("urn:dicom:uid", imaging["identifier"][1]["system"].asString());
  EXPECT_EQ("urn:oid:1.2.3", imaging["identifier"][1]["value"].asString());
  EXPECT_EQ("Patient/P100", imaging["subject"]["reference"].asString());
  EXPECT_EQ("ServiceRequest/sr-9", imaging["basedOn"][0]["reference"].asString());
  EXPECT_EQ("Encounter/E5", imaging["encounter"]["reference"].asString());
  EXPECT_EQ("2026-11-27T10:15:00+07:00", imaging["started"].asString());
  EXPECT_EQ(2, imaging["numberOfInstances"].asInt());
  EXPECT_EQ("urn:oid:1.2.840.10008.5.1.4.1.1.2",
            imaging["series"][0]["instance"][0]["sopClass"]["code"].asString());

  const std::vector<HttpCall> images = http.CallsTo("POST https://ss.test/dicom/v1/dicomWeb/studies");
  ASSERT_EQ(2u, images.size());
  EXPECT_EQ("application/dicom", ScriptedHttp::Header(images[0], "Content-Type"));
  EXPECT_EQ("is-1", ScriptedHttp::Header(images[0], "X-ImagingStudy-ID"));
  EXPECT_EQ("DICM-1", images[0].body);

  // One more instance: the ImagingStudy there is updated (PUT), one image sent.
  PutStudy(orthanc, 3);
  http.On(
      "GET https://ss.test/fhir-r4/v1/ImagingStudy?identifier=", 200,
      R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ImagingStudy", "id": "is-1"}}]})");
  http.On("PUT https://ss.test/fhir-r4/v1/ImagingStudy/is-1", 200,
          R"({"resourceType": "ImagingStudy", "id": "is-1"})");
  service->Route(Record(3), PatientConsent());
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(1u, http.CallsTo("POST https://ss.test/fhir-r4/v1/ImagingStudy").size());
  EXPECT_EQ(1u, http.CallsTo("PUT https://ss.test/fhir-r4/v1/ImagingStudy/is-1").size());
  EXPECT_EQ(3u, http.CallsTo("POST https://ss.test/dicom/v1/dicomWeb/studies").size());
  // The token was cached.
  EXPECT_EQ(1u, http.CallsTo("POST https://ss.test/oauth2/").size());
}

TEST_F(RouterFixture, SatusehatWaitsForTheServiceRequestAndTheAccession) {
  Build(kSatusehat);
  PutStudy(orthanc, 1);
  PlatformWithOrder(http);
  http.On("GET https://ss.test/fhir-r4/v1/ServiceRequest?identifier=", 200,
          R"({"resourceType": "Bundle", "total": 0})", true);
  service->Route(Record(1), PatientConsent());
  Run();
  EXPECT_EQ("waiting", Only().state);
  EXPECT_EQ("ServiceRequest not found for accession ACC1", Only().reason);
  service->OnOrderArrived("ACC1");
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;

  // No accession number: waiting, for staff to fix.
  PutStudy(orthanc, 1, "");
  queue.Resend(Only().id);
  Run();
  EXPECT_EQ("waiting", Only().state);
  EXPECT_EQ("no accession number", Only().reason);
}

TEST_F(RouterFixture, SatusehatExpiredTokenIsRenewedOnceAndExistingImagesCount) {
  Build(kSatusehat);
  PutStudy(orthanc, 2);
  PlatformWithOrder(http);
  http.On("POST https://ss.test/oauth2/v1/accesstoken", 200,
          R"({"access_token": "tok-2", "expires_in": 3600})");
  http.On("POST https://ss.test/oauth2/v1/accesstoken", 200,
          R"({"access_token": "tok-old", "expires_in": 3600})", true);
  http.On("GET https://ss.test/fhir-r4/v1/ServiceRequest", 401, R"({"fault": "Invalid Access Token"})", true);
  http.On("POST https://ss.test/dicom/v1/dicomWeb/studies", 400, R"({"error": "Instance already exists"})",
          true);
  service->Route(Record(2), PatientConsent());
  Run();
  const Delivery d = Only();
  EXPECT_EQ("delivered", d.state) << d.reason;
  EXPECT_EQ(2, d.instancesConfirmed);
  EXPECT_EQ(2u, http.CallsTo("POST https://ss.test/oauth2/").size());
  EXPECT_EQ("Bearer tok-2",
            ScriptedHttp::Header(http.CallsTo("GET https://ss.test/fhir-r4/v1/ServiceRequest").back(),
                                 "Authorization"));
}

TEST_F(RouterFixture, SatusehatRefusedCredentialsFailWithoutTheSecret) {
  Build(kSatusehat);
  PutStudy(orthanc, 1);
  http.On("POST https://ss.test/oauth2/v1/accesstoken", 401, R"({"error": "bad client s3cr3t-value"})");
  service->Route(Record(1), PatientConsent());
  Run();
  const Delivery d = Only();
  EXPECT_EQ("failed", d.state);
  EXPECT_NE(std::string::npos, d.reason.find("token service answered HTTP 401")) << d.reason;
  EXPECT_EQ(std::string::npos, d.reason.find("s3cr3t-value")) << d.reason;
}

TEST_F(RouterFixture, ReportsModulesDiagnosticReportGoesToAFhirServerOnceThenUpdated) {
  Build(R"({"Destinations": [{"Name": "ehr", "Type": "fhir", "Url": "http://ehr/fhir"}],
      "Rules": [{"Name": "reports", "Trigger": "report", "Destinations": ["ehr"]}]})");
  PutStudy(orthanc, 1);
  http.On(
      "GET http://ehr/fhir/ImagingStudy?identifier=", 200,
      R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ImagingStudy", "id": "is-7"}}]})");
  http.On("GET http://ehr/fhir/DiagnosticReport?identifier=", 200, R"({"resourceType": "Bundle"})", true);
  http.On("POST http://ehr/fhir/DiagnosticReport", 201,
          R"({"resourceType": "DiagnosticReport", "id": "dr-7"})");
  RoutedReport report;
  report.reportId = "12";
  report.studyUid = "1.2.3";
  report.status = "preliminary";
  report.fhirResource = R"({"resourceType": "DiagnosticReport", "id": "local-1", "status": "preliminary",
      "identifier": [{"system": "urn:hospitalbridge:HOS-001:report", "value": "12"}],
      "presentedForm": [{"contentType": "application/pdf", "data": "JVBERi0="}]})";
  EXPECT_EQ(1, service->RouteReport(report, Record(1), PatientConsent()));
  Run();
  Delivery d = Only();
  EXPECT_EQ("delivered", d.state) << d.reason;
  EXPECT_EQ("dr-7", d.remoteId);
  Json::Value posted;
  ASSERT_TRUE(JsonText::Parse(http.CallsTo("POST http://ehr/fhir/DiagnosticReport")[0].body, posted));
  EXPECT_EQ("ImagingStudy/is-7", posted["imagingStudy"][0]["reference"].asString());
  EXPECT_EQ("application/pdf", posted["presentedForm"][0]["contentType"].asString());
  // The patient as this destination's ImagingStudy names it.
  EXPECT_EQ("urn:hospitalbridge:patient-id", posted["subject"]["identifier"]["system"].asString());
  EXPECT_FALSE(posted.isMember("id"));
  const std::vector<HttpCall> searches = http.CallsTo("GET http://ehr/fhir/DiagnosticReport?identifier=");
  ASSERT_EQ(1u, searches.size());
  EXPECT_NE(std::string::npos, searches[0].url.find("urn%3Ahospitalbridge%3AHOS-001%3Areport%7C12"));

  // Signed final: the same delivery queued again, the server's resource updated (PUT), not a second one.
  http.On(
      "GET http://ehr/fhir/DiagnosticReport?identifier=", 200,
      R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "DiagnosticReport", "id": "dr-7"}}]})");
  http.On("PUT http://ehr/fhir/DiagnosticReport/dr-7", 200,
          R"({"resourceType": "DiagnosticReport", "id": "dr-7"})");
  report.status = "final";
  report.fhirResource = R"({"resourceType": "DiagnosticReport", "status": "final",
      "identifier": [{"system": "urn:hospitalbridge:HOS-001:report", "value": "12"}]})";
  EXPECT_EQ(1, service->RouteReport(report, Record(1), PatientConsent()));
  Run();
  d = Only();
  EXPECT_EQ("delivered", d.state) << d.reason;
  ASSERT_EQ(1u, http.CallsTo("PUT http://ehr/fhir/DiagnosticReport/dr-7").size());
  EXPECT_EQ(1u, http.CallsTo("POST http://ehr/fhir/DiagnosticReport").size());
}

TEST_F(RouterFixture, SignedReportGoesAsDiagnosticReport) {
  Build(kSatusehat);
  PutStudy(orthanc, 1);
  PlatformWithOrder(http);
  http.On(
      "GET https://ss.test/fhir-r4/v1/ImagingStudy?identifier=", 200,
      R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ImagingStudy", "id": "is-1"}}]})");
  http.On("GET https://ss.test/fhir-r4/v1/DiagnosticReport?identifier=", 200,
          R"({"resourceType": "Bundle"})");
  http.On("POST https://ss.test/fhir-r4/v1/DiagnosticReport", 201,
          R"({"resourceType": "DiagnosticReport", "id": "dr-1"})");
  RoutedReport report;
  report.reportId = "R-1";
  report.studyUid = "1.2.3";
  report.text = "No bleed.";
  report.conclusion = "Normal";
  report.signedAt = 1800000000;
  EXPECT_EQ(1, service->RouteReport(report, Record(1), PatientConsent()));
  const std::vector<Delivery> deliveries = queue.List(DeliveryFilter());
  ASSERT_EQ(1u, deliveries.size());
  EXPECT_EQ("report:R-1", deliveries[0].trigger);
  Run();
  const Delivery d = *queue.Find(deliveries[0].id);
  EXPECT_EQ("delivered", d.state) << d.reason;
  EXPECT_EQ("dr-1", d.remoteId);
  Json::Value posted;
  ASSERT_TRUE(
      JsonText::Parse(http.CallsTo("POST https://ss.test/fhir-r4/v1/DiagnosticReport")[0].body, posted));
  EXPECT_EQ("ImagingStudy/is-1", posted["imagingStudy"][0]["reference"].asString());
  EXPECT_EQ("ServiceRequest/sr-9", posted["basedOn"][0]["reference"].asString());
  EXPECT_EQ("Normal", posted["conclusion"].asString());
  // SATUSEHAT's documented shape: an official identifier of the organization's
  // radiology system, and the ServiceRequest's code.
  EXPECT_EQ("http://sys-ids.kemkes.go.id/diagnostic/100026/rad",
            posted["identifier"][0]["system"].asString());
  EXPECT_EQ("official", posted["identifier"][0]["use"].asString());
  EXPECT_EQ("R-1", posted["identifier"][0]["value"].asString());
  EXPECT_EQ("24725-4", posted["code"]["coding"][0]["code"].asString());
  EXPECT_EQ("CT kepala", posted["code"]["text"].asString());
  const std::vector<HttpCall> search = http.CallsTo("GET https://ss.test/fhir-r4/v1/DiagnosticReport");
  ASSERT_EQ(1u, search.size());
  EXPECT_NE(std::string::npos,
            search[0].url.find("http%3A%2F%2Fsys-ids.kemkes.go.id%2Fdiagnostic%2F100026%2Frad%7CR-1"));
}

TEST(FhirSenders, DiagnosticReportForAServerNamesOnlyWhatThatServerHas) {
  Json::Value local;
  ASSERT_TRUE(JsonText::Parse(R"({"resourceType": "DiagnosticReport", "id": "hb-HOS-001-report-12-v1",
      "status": "final", "identifier": [{"system": "urn:hospitalbridge:HOS-001:report", "value": "12"}],
      "basedOn": [{"reference": "ServiceRequest/31", "type": "ServiceRequest",
                   "identifier": {"system": "urn:hospitalbridge:HOS-001:accession", "value": "A-31"}},
                  {"reference": "ServiceRequest/32"}],
      "subject": {"type": "Patient", "identifier": {"system": "urn:hospitalbridge:HOS-001:patient-id",
                  "value": "P-1"}, "display": "Doe, Jane"},
      "imagingStudy": [{"type": "ImagingStudy", "identifier": {"system": "urn:dicom:uid",
                        "value": "urn:oid:1.2.3"}}]})",
                              local));
  Json::Value subject;
  subject["identifier"]["system"] = "http://hospital.example/mrn";
  subject["identifier"]["value"] = "P-1";
  const Json::Value sent = DiagnosticReportForServer(local, subject, "is-7");
  EXPECT_FALSE(sent.isMember("id"));
  EXPECT_EQ("12", sent["identifier"][0]["value"].asString());
  // The server's patient and ImagingStudy; the local display kept.
  EXPECT_EQ("http://hospital.example/mrn", sent["subject"]["identifier"]["system"].asString());
  EXPECT_EQ("Doe, Jane", sent["subject"]["display"].asString());
  ASSERT_EQ(1u, sent["imagingStudy"].size());
  EXPECT_EQ("ImagingStudy/is-7", sent["imagingStudy"][0]["reference"].asString());
  EXPECT_EQ("urn:oid:1.2.3", sent["imagingStudy"][0]["identifier"]["value"].asString());
  // The order by its accession number only: ServiceRequest/31 is this site's, not the server's.
  ASSERT_EQ(1u, sent["basedOn"].size());
  EXPECT_FALSE(sent["basedOn"][0].isMember("reference"));
  EXPECT_EQ("A-31", sent["basedOn"][0]["identifier"]["value"].asString());

  // No ImagingStudy there (yet): the logical reference stays; no order: no basedOn.
  local["basedOn"][0].removeMember("identifier");
  const Json::Value alone = DiagnosticReportForServer(local, Json::Value(), "");
  EXPECT_FALSE(alone.isMember("basedOn"));
  EXPECT_FALSE(alone["imagingStudy"][0].isMember("reference"));
  EXPECT_EQ("urn:hospitalbridge:HOS-001:patient-id", alone["subject"]["identifier"]["system"].asString());
}

TEST_F(RouterFixture, CStoreFollowsOrthancJobs) {
  Build(R"({"Destinations": [{"Name": "pacs", "Type": "dicom", "Target": "pacs", "BatchSize": 10}],
      "Rules": [{"Name": "all", "Destinations": ["pacs"]}]})");
  PutStudy(orthanc, 2);
  orthanc.answers["POST /modalities/pacs/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] =
      R"({"State": "Failure", "ErrorDescription": "Error in the network protocol"})";
  service->Route(Record(2), PatientConsent());
  Run();
  EXPECT_EQ("retrying", Only().state);
  EXPECT_NE(std::string::npos, Only().reason.find("network protocol")) << Only().reason;
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  clock.Advance(3600 * 1000);
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(2, Only().instancesSent);
  Json::Value job;
  ASSERT_TRUE(JsonText::Parse(orthanc.posted.back().second, job));
  EXPECT_EQ(2u, job["Resources"].size());
  EXPECT_FALSE(job["Synchronous"].asBool());
}

namespace {
const char kPacs[] =
    R"({"Destinations": [{"Name": "pacs", "Type": "dicom", "Target": "pacs", "BatchSize": 10},
    {"Name": "peer", "Type": "peer", "Target": "site-b", "BatchSize": 10}],
    "Rules": [{"Name": "all", "Modalities": ["CT"], "Destinations": ["pacs"]}, {"Name": "p", "Modalities": ["XX"], "Destinations": ["peer"]}]})";

// A peer answering GET /studies/{id}/instances from a script.
class ScriptedPeers : public IPeerClient {
 public:
  bool Knows(const std::string& name) override { return name == "site-b"; }
  PeerAnswer Get(const std::string& name, const std::string& uri, int) override {
    asked.push_back(name + " " + uri);
    return answer;
  }
  PeerAnswer answer;
  std::vector<std::string> asked;
};

// The delivery claimed, then Orthanc killed (as RouterService finds it at the restart).
void Interrupt(DeliveryQueue& queue, int64_t id) {
  ASSERT_TRUE(queue.Claim(id));
  ASSERT_EQ(1, queue.RequeueInterrupted());
}

std::vector<std::string> StoredResources(const CannedOrthanc& orthanc, const std::string& uri) {
  std::vector<std::string> out;
  for (const auto& [posted, body] : orthanc.posted) {
    if (posted != uri) continue;
    Json::Value job;
    if (!JsonText::Parse(body, job)) continue;
    for (const Json::Value& id : job["Resources"]) out.push_back(id.asString());
  }
  return out;
}
}  // namespace

TEST_F(RouterFixture, CStoreAfterAnInterruptionSendsOnlyWhatTheModalityLacks) {
  Build(kPacs);
  PutStudy(orthanc, 3);
  orthanc.answers["POST /modalities/pacs/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  orthanc.answers["POST /modalities/pacs/query"] = R"({"ID": "q-1", "Path": "/queries/q-1"})";
  // The modality got the first instance of the batch the crash cut short.
  orthanc.answers["/queries/q-1/answers?expand&simplify"] =
      R"([{"QueryRetrieveLevel": "IMAGE", "SOPInstanceUID": "1.2.3.1.1"}])";
  service->Route(Record(3), PatientConsent());
  Interrupt(queue, Only().id);
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(3, Only().instancesConfirmed);
  EXPECT_EQ("3 instances at pacs (1 of those not confirmed before were there already)", Only().reason);
  EXPECT_EQ((std::vector<std::string>{"i-2", "i-3"}), StoredResources(orthanc, "/modalities/pacs/store"));
  // A C-FIND at IMAGE level under the study and its series.
  Json::Value query;
  ASSERT_EQ("/modalities/pacs/query", orthanc.posted[0].first);
  ASSERT_TRUE(JsonText::Parse(orthanc.posted[0].second, query));
  EXPECT_EQ("Instance", query["Level"].asString());
  EXPECT_EQ("1.2.3", query["Query"]["StudyInstanceUID"].asString());
  EXPECT_EQ("1.2.3.1", query["Query"]["SeriesInstanceUID"].asString());
  EXPECT_EQ("", query["Query"]["SOPInstanceUID"].asString());
}

TEST_F(RouterFixture, CStoreFullAnswerFormAndFirstAttemptsAskNothing) {
  Build(kPacs);
  PutStudy(orthanc, 2);
  orthanc.answers["POST /modalities/pacs/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] = R"({"State": "Failure", "ErrorDescription": "Association rejected"})";
  orthanc.answers["POST /modalities/pacs/query"] = R"({"ID": "q-1", "Path": "/queries/q-1"})";
  orthanc.answers["/queries/q-1/answers?expand&simplify"] =
      R"([{"0008,0018": {"Name": "SOPInstanceUID", "Type": "String", "Value": "1.2.3.1.2"}}])";
  service->Route(Record(2), PatientConsent());
  Run();  // a first attempt: no C-FIND
  EXPECT_EQ("retrying", Only().state);
  EXPECT_EQ(0, orthanc.calls["/modalities/pacs/query"]);
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  clock.Advance(3600 * 1000);
  Run();  // the failed job may have stored some: asked first
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(1, orthanc.calls["/modalities/pacs/query"]);
  EXPECT_EQ((std::vector<std::string>{"i-1", "i-2", "i-1"}),
            StoredResources(orthanc, "/modalities/pacs/store"));
}

TEST_F(RouterFixture, CStoreResendsWhenTheModalityAnswersNoCFind) {
  Build(kPacs);
  PutStudy(orthanc, 2);
  orthanc.answers["POST /modalities/pacs/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  service->Route(Record(2), PatientConsent());
  Interrupt(queue, Only().id);
  Run();  // no answer to POST /modalities/pacs/query
  EXPECT_EQ(1, orthanc.calls["/modalities/pacs/query"]);
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(
      "2 instances at pacs (pacs could not say what it had: those not confirmed before were sent again)",
      Only().reason);
  EXPECT_EQ((std::vector<std::string>{"i-1", "i-2"}), StoredResources(orthanc, "/modalities/pacs/store"));
}

TEST_F(RouterFixture, PeerAfterAnInterruptionIsAskedOverItsRestApi) {
  Build(kPacs);
  ScriptedPeers peers;
  service = std::make_unique<RouterService>(config.router, queue, orthanc, http, audit, clock, &peers);
  service->SetSleep([](int) {});
  PutStudy(orthanc, 3);
  orthanc.answers["POST /peers/site-b/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  peers.answer.reached = true;
  peers.answer.httpStatus = 200;
  peers.answer.body = R"([{"ID": "x", "MainDicomTags": {"SOPInstanceUID": "1.2.3.1.3"}},
                          {"ID": "y", "MainDicomTags": {"SOPInstanceUID": "1.2.3.1.1"}}])";
  StudyRecord study = Record(3);
  study.modalities = {"XX"};
  service->Route(study, PatientConsent());
  Interrupt(queue, Only().id);
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ((std::vector<std::string>{std::string("site-b /studies/") + kStudy + "/instances"}), peers.asked);
  EXPECT_EQ((std::vector<std::string>{"i-2"}), StoredResources(orthanc, "/peers/site-b/store"));

  // The peer has none of the study (404): all sent; unreachable: all sent too.
  for (const int status : {404, 0}) {
    orthanc.posted.clear();
    peers.answer.reached = status != 0;
    peers.answer.httpStatus = status;
    peers.answer.error = status == 0 ? "Couldn't connect to server" : "";
    ASSERT_TRUE(queue.Resend(Only().id));
    ExecuteSql(*database, "DELETE FROM router_sent_instances");
    Interrupt(queue, Only().id);
    Run();
    EXPECT_EQ("delivered", Only().state) << Only().reason;
    EXPECT_EQ((std::vector<std::string>{"i-1", "i-2", "i-3"}),
              StoredResources(orthanc, "/peers/site-b/store"))
        << status;
  }
}

TEST_F(RouterFixture, OffHoursDeliveryWaitsSayingUntilWhen) {
  const time_t now = static_cast<time_t>(clock.NowSeconds());
  struct tm local {};
  localtime_r(&now, &local);
  const int minute = local.tm_hour * 60 + local.tm_min;
  const auto at = [](int m) {
    char text[32];
    m = (m + 24 * 60) % (24 * 60);
    std::snprintf(text, sizeof(text), "%02d:%02d", m / 60, m % 60);
    return std::string(text);
  };
  // A window opening in two hours, for an hour.
  const std::string window = at(minute + 120) + "-" + at(minute + 180);
  Build(R"({"Destinations": [{"Name": "pacs", "Type": "dicom", "Target": "pacs", "Schedule": ")" + window +
        R"("}], "Rules": [{"Name": "all", "Destinations": ["pacs"]}]})");
  PutStudy(orthanc, 1);
  orthanc.answers["POST /modalities/pacs/store"] = R"({"ID": "job-1", "Path": "/jobs/job-1"})";
  orthanc.answers["/jobs/job-1"] = R"({"State": "Success"})";
  service->Route(Record(1), PatientConsent());
  Run();
  Delivery d = Only();
  EXPECT_EQ("waiting", d.state);
  EXPECT_EQ("outside the sending hours " + window, d.reason);
  EXPECT_EQ(0, d.attempts);
  const int64_t opens = (clock.NowMs() / 60000 + 120) * 60000;
  EXPECT_EQ(opens, d.nextAttemptAtMs);
  EXPECT_TRUE(orthanc.posted.empty());
  EXPECT_EQ(window, service->DestinationsJson()[0]["schedule"].asString());
  clock.Advance(119 * 60000);
  Run();
  EXPECT_EQ("waiting", Only().state);
  EXPECT_TRUE(orthanc.posted.empty());
  clock.Advance(60000);
  Run();
  EXPECT_EQ("delivered", Only().state) << Only().reason;
  EXPECT_EQ(1u, StoredResources(orthanc, "/modalities/pacs/store").size());
}
