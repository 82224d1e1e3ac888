// The study index: reading Orthanc's answers, storing, searching, and the
// worker's reconcile, against canned Orthanc JSON shaped like 1.10.1's.
#include <gtest/gtest.h>

#include "Common/Errors.h"
#include "Common/Time.h"
#include "Index/IndexWorker.h"
#include "Index/StudyIndexStore.h"
#include "Index/StudyReader.h"
#include "Index/StudyRoutes.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
struct StudySpec {
  std::string id;
  std::string uid;
  std::string patientId;
  std::string name;
  std::string date;
  std::string time;
  std::string description;
  std::vector<std::pair<std::string, int>> series;  // modality, instances
  std::string lastUpdate = "20261122T110000";
};

void AddStudy(CannedOrthanc& orthanc, const StudySpec& spec) {
  Json::Value study;
  study["ID"] = spec.id;
  study["Type"] = "Study";
  study["LastUpdate"] = spec.lastUpdate;
  study["MainDicomTags"]["StudyInstanceUID"] = spec.uid;
  study["MainDicomTags"]["StudyDate"] = spec.date;
  study["MainDicomTags"]["StudyTime"] = spec.time;
  study["MainDicomTags"]["StudyDescription"] = spec.description;
  study["MainDicomTags"]["AccessionNumber"] = "ACC-" + spec.id;
  study["PatientMainDicomTags"]["PatientID"] = spec.patientId;
  study["PatientMainDicomTags"]["PatientName"] = spec.name;
  study["PatientMainDicomTags"]["PatientBirthDate"] = "19900515";
  study["PatientMainDicomTags"]["PatientSex"] = "F";
  Json::Value series(Json::arrayValue);
  for (size_t s = 0; s < spec.series.size(); s++) {
    Json::Value item;
    item["ID"] = spec.id + "-series" + std::to_string(s);
    item["MainDicomTags"]["Modality"] = spec.series[s].first;
    item["Instances"] = Json::Value(Json::arrayValue);
    for (int i = 0; i < spec.series[s].second; i++) {
      item["Instances"].append(item["ID"].asString() + "-instance" + std::to_string(i));
    }
    series.append(item);
    study["Series"].append(item["ID"]);
    Json::Value metadata;
    metadata["Origin"] = s == 0 ? "DicomProtocol" : "RestApi";
    metadata["RemoteAET"] = s == 0 ? "CT_SCANNER" : "";
    metadata["RemoteIP"] = "10.0.0." + std::to_string(s + 1);
    metadata["HttpUsername"] = s == 0 ? "" : "tech";
    metadata["ReceptionDate"] = s == 0 ? "20261122T100000" : "20261122T100500";
    orthanc.Set("/instances/" + item["Instances"][0].asString() + "/metadata?expand", metadata);
  }
  orthanc.Set("/studies/" + spec.id, study);
  orthanc.Set("/studies/" + spec.id + "/series", series);
}

void ListStudies(CannedOrthanc& orthanc, const std::vector<StudySpec>& specs) {
  Json::Value list(Json::arrayValue);
  for (const StudySpec& spec : specs) {
    Json::Value item;
    item["ID"] = spec.id;
    item["LastUpdate"] = spec.lastUpdate;
    list.append(item);
  }
  orthanc.Set("/studies?expand&since=0&limit=1000", list);
}

const StudySpec kChest{"s1", "1.2.1", "P1", "DOE^JANE", "20240115", "103000", "Chest X-ray", {{"CR", 2}}};
const StudySpec kPetCt{
    "s2", "1.2.2", "P1", "DOE^JANE", "20250301", "090000", "PET-CT staging", {{"CT", 100}, {"PT", 50}}};
const StudySpec kKnee{"s3", "1.2.3", "P2", "ROE^RICHARD", "20250301", "140000", "Knee MRI", {{"MR", 30}}};
const StudySpec kUndated{"s4", "1.2.4", "P3",      "<img src=x onerror=alert(1)>^EVIL",
                         "",   "",      "Unknown", {{"OT", 1}}};

class StudyIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    database = MigratedMemoryDatabase();
    store = std::make_unique<StudyIndexStore>(*database);
    reader = std::make_unique<StudyReader>(orthanc);
    for (const StudySpec& spec : {kChest, kPetCt, kKnee, kUndated}) AddStudy(orthanc, spec);
  }
  void IndexAll() {
    for (const StudySpec& spec : {kChest, kPetCt, kKnee, kUndated})
      store->Upsert(*reader->Read(spec.id, nullptr));
  }
  std::vector<std::string> Ids(const StudyFilter& filter) {
    std::vector<std::string> ids;
    for (const StudyRecord& record : store->Search(filter).studies) ids.push_back(record.orthancId);
    return ids;
  }

  CannedOrthanc orthanc;
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<StudyIndexStore> store;
  std::unique_ptr<StudyReader> reader;
};
}  // namespace

TEST_F(StudyIndex, ReaderBuildsTheRecordFromOrthanc) {
  std::optional<StudyRecord> record = reader->Read("s2", nullptr);
  ASSERT_TRUE(record);
  EXPECT_EQ("1.2.2", record->studyUid);
  EXPECT_EQ("DOE^JANE", record->patientName);
  EXPECT_EQ((std::vector<std::string>{"CT", "PT"}), record->modalities);
  EXPECT_EQ(2, record->seriesCount);
  EXPECT_EQ(150, record->instanceCount);
  EXPECT_EQ(Time::ParseOrthancTimestamp("20261122T100000"), record->firstReceived);
  EXPECT_EQ(Time::ParseOrthancTimestamp("20261122T110000"), record->lastReceived);

  Json::Value json = record->ToJson();
  EXPECT_EQ("2025-03-01", json["study_date"].asString());
  EXPECT_EQ("09:00:00", json["study_time"].asString());
  EXPECT_EQ("1990-05-15", json["patient_birth_date"].asString());
  EXPECT_EQ("2026-11-22T10:00:00Z", json["first_received"].asString());
  ASSERT_EQ(2u, json["sources"].size());
  EXPECT_EQ("CT_SCANNER", json["sources"][0]["aet"].asString());
  EXPECT_EQ("DicomProtocol", json["sources"][0]["origin"].asString());
  EXPECT_EQ("tech", json["sources"][1]["user"].asString());
}

TEST_F(StudyIndex, ReaderReusesKnownSourcesAndSpotsDeletion) {
  std::optional<StudyRecord> first = reader->Read("s2", nullptr);
  orthanc.calls.clear();
  std::optional<StudyRecord> second = reader->Read("s2", &*first);
  EXPECT_EQ(2, static_cast<int>(orthanc.calls.size())) << "only the study and its series are read again";
  orthanc.Remove("/studies/s2");
  EXPECT_FALSE(reader->Read("s2", &*first));
}

TEST_F(StudyIndex, SearchIsNewestFirstAndPagesStably) {
  IndexAll();
  StudyFilter all;
  EXPECT_EQ((std::vector<std::string>{"s3", "s2", "s1", "s4"}), Ids(all)) << "undated studies last";
  StudyFilter page;
  page.limit = 2;
  EXPECT_EQ((std::vector<std::string>{"s3", "s2"}), Ids(page));
  page.offset = 2;
  EXPECT_EQ((std::vector<std::string>{"s1", "s4"}), Ids(page));
  EXPECT_EQ(4, store->Search(page).total);
}

TEST_F(StudyIndex, Filters) {
  IndexAll();
  StudyFilter byPatient;
  byPatient.patientId = "P1";
  EXPECT_EQ((std::vector<std::string>{"s2", "s1"}), Ids(byPatient));
  StudyFilter byModality;
  byModality.modality = "PT";
  EXPECT_EQ((std::vector<std::string>{"s2"}), Ids(byModality));
  StudyFilter byDates;
  byDates.fromDate = "20250101";
  byDates.toDate = "20250301";
  EXPECT_EQ((std::vector<std::string>{"s3", "s2"}), Ids(byDates));
  StudyFilter byWords;
  byWords.text = "jane doe";
  EXPECT_EQ((std::vector<std::string>{"s2", "s1"}), Ids(byWords));
  byWords.text = "staging";
  EXPECT_EQ((std::vector<std::string>{"s2"}), Ids(byWords));
  byWords.text = "100%";
  EXPECT_TRUE(Ids(byWords).empty()) << "LIKE wildcards are taken literally";
  byWords.text = "<img";
  EXPECT_EQ((std::vector<std::string>{"s4"}), Ids(byWords));
}

TEST_F(StudyIndex, UpsertReplacesModalities) {
  IndexAll();
  StudyRecord changed = *store->FindByOrthancId("s2");
  changed.modalities = {"CT"};
  store->Upsert(changed);
  StudyFilter pet;
  pet.modality = "PT";
  EXPECT_TRUE(Ids(pet).empty());
  store->Remove("s2");
  EXPECT_FALSE(store->FindByUid("1.2.2"));
  EXPECT_EQ(3, store->Counts().studies);
  EXPECT_EQ(3, store->Counts().patients);
}

TEST_F(StudyIndex, ReconcileAddsMissingRefreshesChangedDropsGone) {
  IndexAll();
  store->Remove("s1");  // missing from the index
  StudySpec grown = kPetCt;
  grown.series.push_back({"SR", 1});
  grown.lastUpdate = "20261122T120000";
  AddStudy(orthanc, grown);  // changed while away
  StudySpec added{"s5", "1.2.5", "P5", "NEW^ONE", "20260101", "080000", "Stored while away", {{"DX", 1}}};
  AddStudy(orthanc, added);
  ListStudies(orthanc, {kChest, grown, kKnee, added});  // s4 deleted while away

  IndexWorker worker(*store, *reader, 500, nullptr);
  worker.RequestReconcile();
  worker.DrainForTests();
  EXPECT_TRUE(store->FindByOrthancId("s1"));
  EXPECT_TRUE(store->FindByOrthancId("s5"));
  EXPECT_FALSE(store->FindByOrthancId("s4"));
  EXPECT_EQ(151, store->FindByOrthancId("s2")->instanceCount);
  EXPECT_NE("", store->GetState("last_reconcile"));
}

TEST_F(StudyIndex, WorkerIndexesChangesAndDeletions) {
  IndexWorker worker(*store, *reader, 500, nullptr);
  worker.StudyChanged("s1");
  worker.StudyChanged("s1");
  worker.StudyChanged("s3");
  EXPECT_EQ(2u, worker.QueueDepth()) << "repeated changes of one study coalesce";
  worker.DrainForTests();
  EXPECT_EQ(0u, worker.QueueDepth());
  EXPECT_TRUE(store->FindByUid("1.2.1"));
  worker.StudyDeleted("s1");
  worker.DrainForTests();
  EXPECT_FALSE(store->FindByUid("1.2.1"));
}

TEST_F(StudyIndex, WorkerThreadIndexesAfterTheDelayAndSurvivesOrthancFailures) {
  IndexWorker worker(*store, *reader, 50, nullptr);
  ListStudies(orthanc, {});
  orthanc.failing = true;
  worker.Start(false);
  worker.StudyChanged("s3");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(store->FindByUid("1.2.3"));
  EXPECT_EQ(1u, worker.QueueDepth()) << "kept for a retry, not lost";
  orthanc.failing = false;
  for (int i = 0; i < 100 && !store->FindByUid("1.2.3"); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(store->FindByUid("1.2.3"));
  worker.Stop();
  EXPECT_EQ("stopped", worker.State());
}

TEST(StudyFilterParsing, RejectsMalformedParametersByName) {
  StudyIndexSettings settings;
  auto parse = [&](const std::string& name, const std::string& value) {
    HttpRequest request;
    request.query[name] = value;
    try {
      ParseStudyFilter(request, settings);
    } catch (const DomainError& e) {
      EXPECT_EQ(400, HttpStatusOf(e.GetKind()));
      return std::string(e.what()) + " " + e.Detail();
    }
    return std::string();
  };
  EXPECT_NE(std::string::npos, parse("from", "2024-13-01").find("from"));
  EXPECT_NE(std::string::npos, parse("to", "yesterday").find("to"));
  EXPECT_NE(std::string::npos, parse("limit", "0").find("limit"));
  EXPECT_NE(std::string::npos, parse("limit", "501").find("limit"));
  EXPECT_NE(std::string::npos, parse("offset", "-1").find("offset"));
  EXPECT_NE(std::string::npos, parse("modality", "C T").find("modality"));
  EXPECT_NE(std::string::npos, parse("sort", "x").find("sort"));
  EXPECT_EQ("", parse("from", "2024-02-29"));
  EXPECT_NE("", parse("from", "2023-02-29"));
  EXPECT_EQ("", parse("from", "20240115"));
}
