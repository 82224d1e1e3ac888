// Consent decisions without a server.
#include <gtest/gtest.h>

#include "Consent/ConsentRoutes.h"
#include "Consent/ConsentService.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
class Consent : public ::testing::Test {
 protected:
  void SetUp() override {
    database = MigratedMemoryDatabase();
    patients = std::make_unique<PatientStore>(*database);
    studies = std::make_unique<StudyIndexStore>(*database);
    store = std::make_unique<ConsentStore>(*database);
    service = std::make_unique<ConsentService>(*store, *patients, *studies, ConsentSettings(), "HOS-001");
    Patient jane;
    jane.nationalId = "199012345678";
    jane.lastName = "DOE";
    jane.firstName = "JANE";
    jane.identifiers = {{"HOS-001", "P1", ""}};
    janeId = patients->Create(jane).id;
    StudyRecord study;
    study.orthancId = "o1";
    study.studyUid = "1.2.3";
    study.patientId = "P1";
    studies->Upsert(study);
  }
  ConsentRecord Record(const char* kind, const char* decision, const std::string& from = "",
                       const std::string& until = "") {
    ConsentRecord record;
    record.patientId = janeId;
    record.kind = kind;
    record.decision = decision;
    record.method = "verbal";
    record.validFrom = from;
    record.validUntil = until;
    record.recordedBy = "desk";
    return service->Record(record, "");
  }
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<PatientStore> patients;
  std::unique_ptr<StudyIndexStore> studies;
  std::unique_ptr<ConsentStore> store;
  std::unique_ptr<ConsentService> service;
  std::string janeId;
};
}  // namespace

TEST_F(Consent, DefaultsApplyWithoutARecord) {
  ConsentDecision federation = service->Current(janeId, ConsentKind::kFederation);
  EXPECT_TRUE(federation.permit) << "federation is opt-out by default";
  EXPECT_EQ("default", federation.source);
  EXPECT_FALSE(service->Current(janeId, ConsentKind::kShare).permit) << "share is opt-in by default";
}

TEST_F(Consent, TheLatestValidRecordWinsAndHistoryKeepsAll) {
  Record("federation", "permit");
  ConsentRecord deny = Record("federation", "deny");
  ConsentDecision now = service->Current(janeId, ConsentKind::kFederation);
  EXPECT_FALSE(now.permit);
  EXPECT_EQ(deny.id, now.recordId);
  std::vector<ConsentRecord> history = store->History(janeId);
  ASSERT_EQ(2u, history.size());
  EXPECT_EQ("deny", history[0].decision);
  EXPECT_EQ("permit", history[1].decision);
}

TEST_F(Consent, RecordsOutsideTheirValidityDoNotCount) {
  Record("share", "permit", "20260101", "20261231");
  EXPECT_TRUE(service->Current(janeId, ConsentKind::kShare, "20260601").permit);
  EXPECT_FALSE(service->Current(janeId, ConsentKind::kShare, "20270101").permit) << "expired: back to opt-in";
  Record("share", "deny", "20300101");
  EXPECT_TRUE(service->Current(janeId, ConsentKind::kShare, "20260601").permit)
      << "a future record waits its turn";
}

TEST_F(Consent, StudiesAreMarkedRestrictedAndListenersToldOfADenial) {
  std::vector<std::string> told;
  service->OnDenied([&](const std::string& patient, ConsentKind kind) {
    told.push_back(patient + ":" + ConsentKindName(kind));
  });
  EXPECT_FALSE(studies->FindByUid("1.2.3")->restrictedFederation);
  Record("federation", "deny");
  EXPECT_TRUE(studies->FindByUid("1.2.3")->restrictedFederation);
  EXPECT_EQ(std::vector<std::string>{janeId + ":federation"}, told);
  Record("federation", "permit");
  EXPECT_FALSE(studies->FindByUid("1.2.3")->restrictedFederation);
  Record("share", "deny");
  EXPECT_EQ(1u, told.size()) << "share was denied already (opt-in): nothing to revoke";
}

TEST(ConsentFhir, ResourcesCarryTheRequiredFields) {
  Patient patient;
  patient.id = "PAT-1";
  patient.nationalId = "199012345678";
  patient.lastName = "DOE";
  patient.firstName = "JANE";
  patient.sex = "F";
  patient.birthDate = "19900515";
  Json::Value fhirPatient = FhirPatient(patient, "HOS-001");
  EXPECT_EQ("Patient", fhirPatient["resourceType"].asString());
  EXPECT_EQ("urn:hospitalbridge:national-id", fhirPatient["identifier"][0]["system"].asString());
  EXPECT_EQ("female", fhirPatient["gender"].asString());
  EXPECT_EQ("1990-05-15", fhirPatient["birthDate"].asString());

  ConsentRecord record;
  record.id = 7;
  record.kind = "federation";
  record.decision = "deny";
  record.method = "signed-form";
  record.recordedBy = "desk";
  Json::Value consent = FhirConsent(record, patient, "General Hospital");
  EXPECT_EQ("Consent", consent["resourceType"].asString());
  EXPECT_EQ("active", consent["status"].asString());
  EXPECT_TRUE(consent["scope"]["coding"].isArray());
  EXPECT_GE(consent["category"].size(), 1u);
  EXPECT_EQ("Patient/PAT-1", consent["patient"]["reference"].asString());
  EXPECT_TRUE(consent["policy"].isArray() || consent["policyRule"].isObject()) << "invariant ppc-1";
  EXPECT_EQ("deny", consent["provision"]["type"].asString());
}
