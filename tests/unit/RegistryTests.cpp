// The patient index and the linking of arriving studies, without a server.
#include <gtest/gtest.h>

#include "Common/Errors.h"
#include "Registry/PatientLinker.h"
#include "Registry/PatientStore.h"
#include "Registry/RegistryRoutes.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    database = MigratedMemoryDatabase();
    patients = std::make_unique<PatientStore>(*database);
  }
  Patient Make(const std::string& nationalId, const std::string& last, const std::string& first,
               std::vector<PatientIdentifier> identifiers = {}) {
    Patient p;
    p.nationalId = nationalId;
    p.lastName = last;
    p.firstName = first;
    p.identifiers = std::move(identifiers);
    return patients->Create(p);
  }
  int StatusOf(const std::function<void()>& action) {
    try {
      action();
    } catch (const DomainError& e) {
      return HttpStatusOf(e.GetKind());
    }
    return 0;
  }
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<PatientStore> patients;
};

StudyRecord Study(const std::string& patientId, const std::string& name,
                  const std::string& seriesId = "series-1") {
  StudyRecord study;
  study.orthancId = "study-" + patientId;
  study.studyUid = "1.2.3." + std::to_string(patientId.size());
  study.patientId = patientId;
  study.patientName = name;
  study.patientBirthDate = "19900515";
  study.patientSex = "F";
  study.sources.push_back(StudySource{seriesId, "DicomProtocol", "CT", "10.0.0.1", "", 0});
  return study;
}
}  // namespace

TEST_F(Registry, NationalIdsAndIdentifiersAreUnique) {
  Patient jane = Make("199012345678", "DOE", "JANE", {{"HOS-001", "P1", ""}});
  EXPECT_EQ(0u, jane.id.rfind("PAT-", 0));
  EXPECT_EQ(14u, jane.id.size());
  EXPECT_EQ(409, StatusOf([&] { Make("199012345678", "OTHER", "PERSON"); }));
  EXPECT_EQ(409, StatusOf([&] { Make("", "OTHER", "PERSON", {{"HOS-001", "P1", ""}}); }));
  EXPECT_EQ(1, patients->Count()) << "a refused entry leaves nothing behind";
  Make("", "NO", "NATIONAL-ID-1");
  Make("", "NO", "NATIONAL-ID-2");
  EXPECT_EQ(3, patients->Count()) << "entries without a national ID do not collide";
  EXPECT_EQ(jane.id, patients->FindByIdentifier("HOS-001", "P1")->id);
  EXPECT_FALSE(patients->FindByIdentifier("HOS-002", "P1"));
}

TEST_F(Registry, MergeKeepsEveryIdentifierAndExplainsItself) {
  Patient registered = Make("199012345678", "DOE", "JANE", {{"HOS-001", "199012345678", ""}});
  Patient unlinked = Make("", "DOE", "J", {{"HOS-002", "LOCAL-77", ""}, {"HOS-003", "X9", "ISS"}});
  patients->Merge(registered.id, unlinked.id, "desk", "same person, checked her ID card");
  Patient survivor = *patients->Find(registered.id);
  EXPECT_EQ(3u, survivor.identifiers.size());
  EXPECT_EQ(registered.id, patients->FindByIdentifier("HOS-002", "LOCAL-77")->id);
  Patient merged = *patients->Find(unlinked.id);
  EXPECT_EQ(registered.id, merged.mergedInto);
  EXPECT_TRUE(merged.identifiers.empty());
  std::vector<PatientMerge> history = patients->MergesInto(registered.id);
  ASSERT_EQ(1u, history.size());
  EXPECT_EQ("desk", history[0].byUser);
  EXPECT_EQ("same person, checked her ID card", history[0].reason);
  EXPECT_EQ(2u, history[0].identifiers.size());
  PatientFilter all;
  EXPECT_EQ(1, patients->Search(all).total) << "merged entries leave the list";
  EXPECT_EQ(409, StatusOf([&] { patients->Merge(registered.id, unlinked.id, "desk", "again"); }));
}

TEST_F(Registry, MergeCarriesTheNationalIdOverAndRefusesTwoDifferentOnes) {
  Patient withoutId = Make("", "DOE", "JANE");
  Patient withId = Make("199012345678", "DOE", "JANE");
  patients->Merge(withoutId.id, withId.id, "desk", "duplicate");
  EXPECT_EQ("199012345678", patients->Find(withoutId.id)->nationalId);
  EXPECT_EQ(withoutId.id, patients->FindByNationalId("199012345678")->id);
  Patient other = Make("288012345678", "DOE", "JANE");
  EXPECT_EQ(409, StatusOf([&] { patients->Merge(withoutId.id, other.id, "desk", "x"); }));
  EXPECT_EQ(400, StatusOf([&] { patients->Merge(other.id, other.id, "desk", "x"); }));
}

TEST_F(Registry, SearchByNameWordsBirthDateAndStatus) {
  Patient jane = Make("199012345678", "DOE", "JANE");
  jane.birthDate = "19900515";
  patients->Update(jane);
  Patient p = Make("", "ROE", "RICHARD");
  p.status = "unlinked";
  patients->Update(p);
  PatientFilter byName;
  byName.name = "jane doe";
  EXPECT_EQ(1, patients->Search(byName).total);
  PatientFilter byBirth;
  byBirth.birthDate = "19900515";
  EXPECT_EQ(jane.id, patients->Search(byBirth).patients.at(0).id);
  PatientFilter unlinked;
  unlinked.status = "unlinked";
  EXPECT_EQ(p.id, patients->Search(unlinked).patients.at(0).id);
}

TEST_F(Registry, LinkerReadsTheNationalIdFromPatientIdByPattern) {
  CannedOrthanc orthanc;
  RegistrySettings settings;
  PatientLinker linker(*patients, orthanc, settings, "HOS-001");
  linker.Link(Study("199012345678", "DOE^JANE^MARIE"));
  std::optional<Patient> jane = patients->FindByNationalId("199012345678");
  ASSERT_TRUE(jane);
  EXPECT_EQ("registered", jane->status);
  EXPECT_EQ("DOE", jane->lastName);
  EXPECT_EQ("JANE MARIE", jane->firstName);
  EXPECT_EQ("19900515", jane->birthDate);

  linker.Link(Study("H-0042", "ROE^RICHARD"));
  std::optional<Patient> unlinked = patients->FindByIdentifier("HOS-001", "H-0042");
  ASSERT_TRUE(unlinked);
  EXPECT_EQ("unlinked", unlinked->status);
  EXPECT_EQ("", unlinked->nationalId);
  linker.Link(Study("H-0042", "ROE^RICHARD"));
  EXPECT_EQ(2, patients->Count()) << "a second study of the same PatientID adds nothing";
  EXPECT_TRUE(orthanc.calls.empty()) << "the PatientID rule needs no extra read from Orthanc";
}

TEST_F(Registry, LinkerReadsOtherPatientIdsWhenConfigured) {
  CannedOrthanc orthanc;
  RegistrySettings settings;
  settings.nationalIdSource = RegistrySettings::NationalIdSource::kOtherPatientIds;
  settings.nationalIdIssuer = "NATIONAL";
  Json::Value series;
  series["Instances"].append("instance-1");
  orthanc.Set("/series/series-1", series);
  Json::Value tags;
  Json::Value other;
  other["PatientID"] = "199012345678";
  other["IssuerOfPatientID"] = "NATIONAL";
  Json::Value insurance;
  insurance["PatientID"] = "INS-1";
  insurance["IssuerOfPatientID"] = "INSURER";
  tags["OtherPatientIDsSequence"].append(insurance);
  tags["OtherPatientIDsSequence"].append(other);
  tags["IssuerOfPatientID"] = "HOSPITAL-A";
  orthanc.Set("/instances/instance-1/tags?simplify", tags);

  PatientLinker linker(*patients, orthanc, settings, "HOS-001");
  linker.Link(Study("H-0042", "DOE^JANE"));
  std::optional<Patient> jane = patients->FindByNationalId("199012345678");
  ASSERT_TRUE(jane);
  ASSERT_EQ(1u, jane->identifiers.size());
  EXPECT_EQ("H-0042", jane->identifiers[0].localId);
  EXPECT_EQ("HOSPITAL-A", jane->identifiers[0].issuer);
}

TEST_F(Registry, LinkerAddsAnotherSitesIdentifierToTheKnownPatient) {
  Patient jane = Make("199012345678", "DOE", "JANE", {{"HOS-002", "LOCAL-77", ""}});
  CannedOrthanc orthanc;
  PatientLinker linker(*patients, orthanc, RegistrySettings(), "HOS-001");
  linker.Link(Study("199012345678", "DOE^JANE"));
  EXPECT_EQ(2u, patients->Find(jane.id)->identifiers.size());
  EXPECT_EQ(1, patients->Count());
}

TEST(RegistryDiscrepancies, AreReportedNotApplied) {
  Patient registry;
  registry.lastName = "Doe";
  registry.firstName = "Jane";
  registry.birthDate = "19900515";
  registry.sex = "F";
  StudyRecord study = Study("P1", "DOE^JANE");
  EXPECT_EQ(0u, Discrepancies(registry, study).size()) << "case does not count";
  study.patientName = "DOE^JOAN";
  study.patientBirthDate = "19900516";
  Json::Value found = Discrepancies(registry, study);
  ASSERT_EQ(2u, found.size());
  EXPECT_EQ("name", found[0]["field"].asString());
  EXPECT_EQ("DOE^JOAN", found[0]["dicom"].asString());
  EXPECT_EQ("1990-05-16", found[1]["dicom"].asString());
}

TEST(RegistryNames, DicomNamesSplitIntoFamilyAndGiven) {
  std::string last;
  std::string first;
  SplitDicomName("DOE^JANE^MARIE^DR^", last, first);
  EXPECT_EQ("DOE", last);
  EXPECT_EQ("JANE MARIE", first);
  SplitDicomName("Yamada^Tarou=山田^太郎", last, first);
  EXPECT_EQ("Yamada", last);
  EXPECT_EQ("Tarou", first);
  SplitDicomName("ANONYMOUS", last, first);
  EXPECT_EQ("ANONYMOUS", last);
  EXPECT_EQ("", first);
}
