// Federation without a network: peers are faked, the rest is the real core
// with an in-memory database.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Configuration.h"
#include "Federation/FederationService.h"
#include "Federation/RetrieveJobs.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
// Answers for each peer name, computed from the requested URI.
class FakePeers : public IPeerClient {
 public:
  using Handler = std::function<PeerAnswer(const std::string& uri)>;
  bool Knows(const std::string& name) override { return handlers.count(name) > 0; }
  PeerAnswer Get(const std::string& name, const std::string& uri, int) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      requests.push_back(name + " " + uri);
    }
    auto found = handlers.find(name);
    if (found == handlers.end()) return PeerAnswer{};
    return found->second(uri);
  }
  std::map<std::string, Handler> handlers;
  std::vector<std::string> requests;
  std::mutex mutex;
};

PeerAnswer Ok(const Json::Value& body, int64_t ms = 20) {
  PeerAnswer answer;
  answer.reached = true;
  answer.httpStatus = 200;
  answer.body = JsonText::Write(body);
  answer.elapsedMs = ms;
  return answer;
}

PeerAnswer Status(int status) {
  PeerAnswer answer;
  answer.reached = true;
  answer.httpStatus = status;
  return answer;
}

Json::Value PeerStudies(std::initializer_list<const char*> uids, const char* date = "2025-03-01") {
  Json::Value body;
  body["site"]["id"] = "remote";
  body["patient"]["national_id"] = "199012345678";
  body["patient"]["last_name"] = "DOE";
  body["patient"]["first_name"] = "JANE";
  body["studies"] = Json::Value(Json::arrayValue);
  for (const char* uid : uids) {
    Json::Value study;
    study["study_uid"] = uid;
    study["date"] = date;
    study["modality"] = "CT";
    study["modalities"].append("CT");
    study["description"] = "<script>alert(1)</script>";
    study["instance_count"] = 3;
    body["studies"].append(study);
  }
  return body;
}

class Federation : public ::testing::Test {
 protected:
  void SetUp() override {
    Json::Value orthanc;
    orthanc["HospitalBridge"]["Site"]["Id"] = "HOS-001";
    orthanc["HospitalBridge"]["Site"]["Name"] = "General Hospital";
    orthanc["HospitalBridge"]["Federation"]["PeerTimeoutMs"] = 1000;
    orthanc["HospitalBridge"]["Federation"]["MaxAnswerKilobytes"] = 16;
    config = LoadConfiguration(orthanc);
    database = MigratedMemoryDatabase();
    sites = std::make_unique<SiteStore>(*database);
    patients = std::make_unique<PatientStore>(*database);
    studies = std::make_unique<StudyIndexStore>(*database);
    service = std::make_unique<FederationService>(config.Site(), config.federation, *sites, *patients,
                                                  *studies, peers);
    for (const char* id : {"HOS-002", "HOS-003"}) {
      Site site;
      site.id = id;
      site.name = std::string("Site ") + id;
      site.orthancPeer = std::string("peer-") + id;
      sites->Insert(site);
    }
    Patient jane;
    jane.nationalId = "199012345678";
    jane.lastName = "DOE";
    jane.firstName = "JANE";
    jane.identifiers = {{"HOS-001", "199012345678", ""}};
    patients->Create(jane);
    StudyRecord local;
    local.orthancId = "o1";
    local.studyUid = "1.2.1";
    local.patientId = "199012345678";
    local.studyDate = "20240115";
    local.modalities = {"CR"};
    studies->Upsert(local);
  }
  Json::Value SiteStatus(const Json::Value& answer, const std::string& id) {
    for (const Json::Value& site : answer["sites"]) {
      if (site["id"].asString() == id) return site;
    }
    return Json::Value();
  }

  Configuration config;
  FakePeers peers;
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<SiteStore> sites;
  std::unique_ptr<PatientStore> patients;
  std::unique_ptr<StudyIndexStore> studies;
  std::unique_ptr<FederationService> service;
};
}  // namespace

TEST_F(Federation, MergesEverySiteAndListsASharedStudyOnce) {
  peers.handlers["peer-HOS-002"] = [](const std::string&) { return Ok(PeerStudies({"1.2.2", "1.2.1"})); };
  peers.handlers["peer-HOS-003"] = [](const std::string&) {
    return Ok(PeerStudies({"1.2.3"}, "2026-01-01"));
  };
  Json::Value answer = service->Query("199012345678", std::nullopt);
  EXPECT_EQ(3u, answer["total_studies"].asUInt());
  EXPECT_EQ(3, answer["hospitals_accessed"].asInt());
  EXPECT_EQ("1.2.3", answer["studies"][0]["study_uid"].asString()) << "newest first";
  Json::Value shared;
  for (const Json::Value& study : answer["studies"]) {
    if (study["study_uid"].asString() == "1.2.1") shared = study;
  }
  ASSERT_EQ(2u, shared["sites"].size());
  EXPECT_EQ("HOS-001", shared["site_id"].asString());
  EXPECT_TRUE(shared["local"].asBool());
  EXPECT_EQ("HOS-002", shared["sites"][1]["id"].asString());
  EXPECT_EQ("DOE", answer["patient"]["last_name"].asString());
  EXPECT_EQ(1, SiteStatus(answer, "HOS-001")["count"].asInt());
  for (const std::string& request : peers.requests) {
    EXPECT_NE(std::string::npos, request.find("/bridge/federation/v1/studies?national_id=199012345678"))
        << request;
  }
}

TEST_F(Federation, EveryKindOfFailingPeerShowsInItsStatus) {
  peers.handlers["peer-HOS-002"] = [](const std::string&) { return Status(403); };
  peers.handlers["peer-HOS-003"] = [](const std::string&) {
    PeerAnswer slow;
    slow.error = "Timeout";
    slow.elapsedMs = 1000;
    return slow;
  };
  Json::Value answer = service->Query("199012345678", std::nullopt);
  EXPECT_EQ("unauthorized", SiteStatus(answer, "HOS-002")["status"].asString());
  EXPECT_EQ("timeout", SiteStatus(answer, "HOS-003")["status"].asString());
  EXPECT_EQ(1u, answer["total_studies"].asUInt()) << "the local answer still comes";
  EXPECT_EQ(1, answer["hospitals_accessed"].asInt());

  Site site{"HOS-009", "Broken", "", "", "", "peer-9", 0, 0};
  auto status = [&](const PeerAnswer& a) {
    return service->InterpretPeerAnswer(site, a).status["status"].asString();
  };
  PeerAnswer garbage = Status(200);
  garbage.body = "<html>not json</html>";
  EXPECT_EQ("error", status(garbage));
  PeerAnswer huge = Status(200);
  huge.body = std::string(20 * 1024, ' ') + "{}";
  EXPECT_EQ("error", status(huge));
  PeerAnswer wrongShape = Ok(Json::Value(Json::arrayValue));
  EXPECT_EQ("error", status(wrongShape));
  PeerAnswer refused;
  refused.error = "Connection refused";
  refused.elapsedMs = 2;
  EXPECT_EQ("error", status(refused));
  EXPECT_EQ("error", status(Status(500)));
  EXPECT_EQ("unauthorized", status(Status(401)));
}

TEST_F(Federation, PeersAreAskedInParallel) {
  auto slow = [](const std::string&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return Ok(PeerStudies({}));
  };
  peers.handlers["peer-HOS-002"] = slow;
  peers.handlers["peer-HOS-003"] = slow;
  Json::Value answer = service->Query("199012345678", std::nullopt);
  EXPECT_LT(answer["elapsed_ms"].asInt(), 550) << "two 300 ms peers in parallel";
}

TEST_F(Federation, PeerAnswerLeavesOutUnlinkedAndUnknownPatients) {
  Json::Value known = service->AnswerPeer("199012345678");
  EXPECT_EQ("General Hospital", known["site"]["name"].asString());
  EXPECT_EQ(1u, known["studies"].size());
  EXPECT_EQ("2024-01-15", known["studies"][0]["date"].asString());
  Json::Value unknown = service->AnswerPeer("000000000000");
  EXPECT_TRUE(unknown["patient"].isNull());
  EXPECT_EQ(0u, unknown["studies"].size());

  StudyRecord unlinked;
  unlinked.studyUid = "1.2.9";
  unlinked.patientId = "LOCAL-1";
  EXPECT_FALSE(service->VisibleToPeers(unlinked));
  EXPECT_TRUE(service->VisibleToPeers(*studies->FindByUid("1.2.1")));
}

TEST_F(Federation, RetrievePullsEachInstanceOnceAndRecordsTheOrigin) {
  CannedOrthanc orthanc;
  int fileRequests = 0;
  peers.handlers["peer-HOS-002"] = [&](const std::string& uri) {
    if (uri.find("/instances/") != std::string::npos && uri.find("/file") != std::string::npos) {
      fileRequests++;
      PeerAnswer file = Status(200);
      file.body = "DICM-bytes-of-" + uri;
      return file;
    }
    Json::Value list;
    for (const char* id : {"a", "b"}) {
      Json::Value item;
      item["id"] = std::string(id) + "-id";
      item["sop_instance_uid"] = std::string("1.2.2.") + (id[0] == 'a' ? "1" : "2");
      list["instances"].append(item);
    }
    return Ok(list);
  };
  orthanc.Set("POST /instances", Json::Value(Json::objectValue));
  RetrieveJobs jobs(*database, *sites, peers, orthanc, "HOS-001", nullptr);
  Json::Value job = jobs.Submit("HOS-002", "1.2.2", "rad");
  jobs.RunPendingForTests();
  Json::Value done = *jobs.Find(job["job_id"].asString());
  EXPECT_EQ("succeeded", done["state"].asString()) << done["error"].asString();
  EXPECT_EQ(2, done["instances_done"].asInt());
  auto uploads = [&] {
    return std::count_if(orthanc.posted.begin(), orthanc.posted.end(),
                         [](const auto& post) { return post.first == "/instances"; });
  };
  EXPECT_EQ(2, uploads());
  EXPECT_EQ("DICM-bytes-of-/bridge/federation/v1/instances/a-id/file", orthanc.posted[1].second)
      << "the peer's bytes are stored as they came";

  // Second run: Orthanc now has both instances, nothing is fetched again.
  Json::Value found(Json::arrayValue);
  Json::Value hit;
  hit["Type"] = "Instance";
  found.append(hit);
  orthanc.Set("POST /tools/lookup", found);
  Json::Value again = jobs.Submit("HOS-002", "1.2.2", "rad");
  jobs.RunPendingForTests();
  Json::Value second = *jobs.Find(again["job_id"].asString());
  EXPECT_EQ("succeeded", second["state"].asString());
  EXPECT_EQ(2, second["instances_skipped"].asInt());
  EXPECT_EQ(2, fileRequests);
  EXPECT_EQ(2, uploads()) << "nothing stored twice";
  Transaction transaction(*database, TransactionMode::kRead);
  Statement origin(transaction, "SELECT site_id FROM study_origins WHERE study_uid = '1.2.2'");
  ASSERT_TRUE(origin.Step());
  EXPECT_EQ("HOS-002", origin.ColumnText(0));
}

TEST_F(Federation, RetrieveFailuresAreRecordedAndBadRequestsRefused) {
  CannedOrthanc orthanc;
  peers.handlers["peer-HOS-002"] = [](const std::string&) { return Status(404); };
  RetrieveJobs jobs(*database, *sites, peers, orthanc, "HOS-001", nullptr);
  Json::Value job = jobs.Submit("HOS-002", "1.2.2", "rad");
  jobs.RunPendingForTests();
  Json::Value failed = *jobs.Find(job["job_id"].asString());
  EXPECT_EQ("failed", failed["state"].asString());
  EXPECT_NE(std::string::npos, failed["error"].asString().find("does not share"))
      << failed["error"].asString();
  EXPECT_THROW(jobs.Submit("HOS-404", "1.2.2", "rad"), DomainError);
  EXPECT_THROW(jobs.Submit("HOS-002", "1.2.2'; DROP TABLE x", "rad"), DomainError);
  EXPECT_THROW(jobs.Submit("HOS-001", "1.2.2", "rad"), DomainError);
}
