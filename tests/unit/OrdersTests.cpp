// Orders without a server: the worklist's matching rules (PS3.4 C.2.2.2),
// status changes, identifiers, FHIR intake, arrival matching and attaching a
// study to its order with a canned Orthanc.
#include <gtest/gtest.h>

#include <mutex>

#include "Audit/AuditStore.h"
#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Common/Errors.h"
#include "Configuration.h"
#include "Orders/ArrivalMatcher.h"
#include "Orders/FhirServiceRequest.h"
#include "Orders/OrderService.h"
#include "Orders/Reconciler.h"
#include "Orders/WorklistMatching.h"
#include "Orders/WorklistService.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
class FixedClock : public IClock {
 public:
  int64_t NowMs() const override { return nowMs; }
  int64_t nowMs = 1796000000000;  // 2026-11-29
};

class RecordingAudit : public IAuditSink {
 public:
  void Record(AuditEvent event) override {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  std::mutex mutex;
  std::vector<AuditEvent> events;
};

// A DICOM query as Orthanc's "Full" JSON.
Json::Value Key(const std::string& value) {
  Json::Value key(Json::objectValue);
  key["Type"] = "String";
  key["Value"] = value;
  return key;
}

Json::Value Query(const std::map<std::string, std::string>& top,
                  const std::map<std::string, std::string>& step, int stepItems = 1) {
  Json::Value query(Json::objectValue);
  for (const auto& [tag, value] : top) query[tag] = Key(value);
  Json::Value sequence(Json::objectValue);
  sequence["Type"] = "Sequence";
  sequence["Value"] = Json::Value(Json::arrayValue);
  for (int i = 0; i < stepItems; i++) {
    Json::Value item(Json::objectValue);
    for (const auto& [tag, value] : step) item[tag] = Key(value);
    sequence["Value"].append(item);
  }
  query["0040,0100"] = sequence;
  return query;
}

const AuditActor kDesk{ActorKind::kUser, "desk", "reception", "10.0.0.5"};

class Orders : public ::testing::Test {
 protected:
  void SetUp() override {
    config = LoadConfiguration(Json::Value(Json::objectValue));  // the documented defaults
    config.orders.worklist.configuredModalities["ct"]["AET"] = "CT1";
    config.orders.worklist.answerEncoding = "Utf8";
    database = MigratedMemoryDatabase();
    store = std::make_unique<OrderStore>(*database);
    patients = std::make_unique<PatientStore>(*database);
    auditStore = std::make_unique<AuditStore>(*database);
    service = std::make_unique<OrderService>(*store, patients.get(), auditStore.get(), config.Site(),
                                             config.orders, clock);
  }
  OrderDraft Draft(const std::string& patientId = "P1", const std::string& name = "DOE^JANE") {
    OrderDraft draft;
    draft.patientId = patientId;
    draft.patientName = name;
    draft.modality = "CT";
    draft.stationAet = "CT1";
    draft.scheduledStart = "2026-11-29T10:30";
    return draft;
  }
  int AuditCount(const std::string& action) {
    AuditFilter filter;
    filter.action = action;
    return static_cast<int>(auditStore->Query(filter).total);
  }
  StudyRecord Study(const std::string& orthancId, const std::string& uid, const std::string& accession,
                    const std::string& patientId) {
    StudyRecord study;
    study.orthancId = orthancId;
    study.studyUid = uid;
    study.accessionNumber = accession;
    study.patientId = patientId;
    study.modalities = {"CT"};
    study.instanceCount = 3;
    return study;
  }

  Configuration config;
  FixedClock clock;
  std::unique_ptr<SqliteDatabase> database;
  std::unique_ptr<OrderStore> store;
  std::unique_ptr<PatientStore> patients;
  std::unique_ptr<AuditStore> auditStore;
  std::unique_ptr<OrderService> service;
};
}  // namespace

// --- matching rules ----------------------------------------------------------

TEST(WorklistMatching, UniversalSingleValueAndWildcards) {
  EXPECT_TRUE(MatchesValue("SH", "", "A1", false));
  EXPECT_TRUE(MatchesValue("SH", "*", "A1", false));
  EXPECT_TRUE(MatchesValue("SH", "A1", "A1", false));
  EXPECT_FALSE(MatchesValue("SH", "A1", "A12", false));
  EXPECT_FALSE(MatchesValue("SH", "a1", "A1", false));  // single values of SH are case-sensitive
  EXPECT_TRUE(MatchesValue("SH", "A1 ", "A1", false));  // padding is not significant
  EXPECT_TRUE(MatchesValue("AE", "CT*", "CT_ROOM1", false));
  EXPECT_TRUE(MatchesValue("AE", "CT?", "CT1", false));
  EXPECT_FALSE(MatchesValue("AE", "CT?", "CT12", false));
  EXPECT_TRUE(MatchesValue("CS", "CT\\MR", "MR", false));  // a list is any of its values
  EXPECT_FALSE(MatchesValue("CS", "CT\\MR", "US", false));
  // '?' is one character, not one byte.
  EXPECT_TRUE(MatchesValue("LO", "Z?e", "Zöe", false));
}

TEST(WorklistMatching, PersonNamesFollowTheirOwnRules) {
  EXPECT_TRUE(MatchesValue("PN", "DOE^JANE", "DOE^JANE^^^", false));  // trailing separators say nothing
  EXPECT_TRUE(MatchesValue("PN", "doe^jane", "DOE^JANE", false));     // CaseSensitivePN false
  EXPECT_FALSE(MatchesValue("PN", "doe^jane", "DOE^JANE", true));     // CaseSensitivePN true
  EXPECT_TRUE(MatchesValue("PN", "DOE*", "DOE^JANE", false));
  EXPECT_TRUE(MatchesValue("PN", "*^JANE", "DOE^JANE", false));
  EXPECT_FALSE(MatchesValue("PN", "DOE", "DOE^JANE", false));  // single value: the whole name
  EXPECT_TRUE(MatchesValue("PN", "müller*", "MÜLLER^ZOË", false));
  EXPECT_TRUE(MatchesValue("PN", "иванов*", "ИВАНОВ^ИВАН", false));
  // One group asked matches any group of the name; several groups match in order.
  EXPECT_TRUE(MatchesValue("PN", "山田*", "YAMADA^TARO=山田^太郎", false));
  EXPECT_TRUE(MatchesValue("PN", "YAMADA*=山田*", "YAMADA^TARO=山田^太郎", false));
  EXPECT_FALSE(MatchesValue("PN", "YAMADA*=田中*", "YAMADA^TARO=山田^太郎", false));
}

TEST(WorklistMatching, DateAndTimeRanges) {
  EXPECT_TRUE(MatchesValue("DA", "20261129", "20261129", false));
  EXPECT_FALSE(MatchesValue("DA", "20261129", "20261130", false));
  EXPECT_TRUE(MatchesValue("DA", "20261101-20261130", "20261129", false));
  EXPECT_TRUE(MatchesValue("DA", "-20261129", "20200101", false));
  EXPECT_TRUE(MatchesValue("DA", "20261129-", "20270101", false));
  EXPECT_FALSE(MatchesValue("DA", "20261130-", "20261129", false));
  EXPECT_TRUE(MatchesValue("TM", "0800-1200", "103000", false));
  EXPECT_TRUE(MatchesValue("TM", "0800-1200", "120059", false));  // "1200" reaches to 12:00:59
  EXPECT_FALSE(MatchesValue("TM", "0800-1200", "120100", false));
  EXPECT_TRUE(MatchesValue("TM", "1030", "103045", false));
  EXPECT_TRUE(MatchesValue("TM", "-0900", "083000", false));
  EXPECT_THROW(CheckKey("0040,0002", "DA", "2026-11-29"), DomainError);
  EXPECT_THROW(CheckKey("0040,0002", "DA", "20261340"), DomainError);
  EXPECT_THROW(CheckKey("0040,0002", "DA", "20261130-20261101"), DomainError);
  EXPECT_THROW(CheckKey("0040,0003", "TM", "2500"), DomainError);
  EXPECT_THROW(CheckKey("0040,0003", "TM", "10-11-12"), DomainError);
  EXPECT_NO_THROW(CheckKey("0040,0003", "TM", "103000.123456"));
}

TEST(WorklistMatching, UidListsAndSequences) {
  EXPECT_TRUE(MatchesValue("UI", "1.2.3\\1.2.4", "1.2.4", false));
  EXPECT_FALSE(MatchesValue("UI", "1.2.3\\1.2.4", "1.2.5", false));
  Order order;
  order.accession = "A1";
  order.patientId = "P1";
  order.patientName = "DOE^JANE";
  order.modality = "CT";
  order.stationAet = "CT1";
  order.scheduledDate = "20261129";
  order.scheduledTime = "103000";
  order.procedureCode = "24627-2";
  order.procedureScheme = "LN";
  const WorklistItem item = WorklistItemOf(order);
  EXPECT_TRUE(
      Matches(ParseWorklistQuery(Query({{"0010,0010", "doe*"}}, {{"0008,0060", "CT"}})), item, false));
  EXPECT_FALSE(Matches(ParseWorklistQuery(Query({}, {{"0008,0060", "MR"}})), item, false));
  EXPECT_FALSE(Matches(ParseWorklistQuery(Query({}, {{"0040,0001", "CT2"}})), item, false));
  EXPECT_TRUE(Matches(ParseWorklistQuery(Query({}, {{"0040,0002", "20261129"}, {"0040,0003", "1000-1100"}})),
                      item, false));
  EXPECT_FALSE(Matches(ParseWorklistQuery(Query({}, {{"0040,0020", "ARRIVED"}})), item, false));
  EXPECT_TRUE(Matches(ParseWorklistQuery(Query({}, {}, 0)), item, false));  // empty sequence: universal
  // Inside a nested sequence: an item must match every key given.
  Json::Value query = Query({}, {});
  query["0032,1064"]["Type"] = "Sequence";
  query["0032,1064"]["Value"][0]["0008,0100"] = Key("24627-2");
  EXPECT_TRUE(Matches(ParseWorklistQuery(query), item, false));
  query["0032,1064"]["Value"][0]["0008,0100"] = Key("99999-9");
  EXPECT_FALSE(Matches(ParseWorklistQuery(query), item, false));
  // A query's step sequence holds one item at most.
  EXPECT_THROW(ParseWorklistQuery(Query({}, {{"0008,0060", "CT"}}, 2)), DomainError);
  EXPECT_THROW(ParseWorklistQuery(Query({}, {{"0040,0002", "yesterday"}})), DomainError);
}

TEST(WorklistMatching, AnswersHoldEveryKnownKeyAndFitTheEncoding) {
  Order order;
  order.patientName = "ИВАНОВ^Zoë";
  order.accession = "A1";
  const Json::Value latin1 = WorklistAnswerJson(WorklistItemOf(order), "Latin1");
  EXPECT_EQ("??????^Zoë", latin1["0010,0010"].asString());
  const Json::Value utf8 = WorklistAnswerJson(WorklistItemOf(order), "Utf8");
  EXPECT_EQ("ИВАНОВ^Zoë", utf8["0010,0010"].asString());
  EXPECT_TRUE(utf8.isMember("0010,2000"));  // empty, but present to be returned when asked
  EXPECT_EQ("A1-1", utf8["0040,0100"][0]["0040,0009"].asString());
  EXPECT_EQ("SCHEDULED", utf8["0040,0100"][0]["0040,0020"].asString());
}

// --- orders ------------------------------------------------------------------

TEST_F(Orders, IdentifiersAreGeneratedUniqueAndWellFormed) {
  std::vector<std::string> told;
  service->OnCreated([&told](const Order& order) { told.push_back(order.accession); });
  CreatedOrder first = service->Create(Draft(), kDesk);
  CreatedOrder second = service->Create(Draft(), kDesk);
  EXPECT_EQ("202611290001", first.order.accession);
  EXPECT_EQ("202611290002", second.order.accession);
  EXPECT_EQ(0u, first.order.studyUid.rfind("2.25.", 0));
  EXPECT_LE(first.order.studyUid.size(), 64u);
  EXPECT_NE(first.order.studyUid, second.order.studyUid);
  for (char c : first.order.studyUid) EXPECT_TRUE(c == '.' || (c >= '0' && c <= '9'));
  OrderDraft given = Draft();
  given.accession = "ACC-7";
  EXPECT_EQ("ACC-7", service->Create(given, kDesk).order.accession);
  try {
    service->Create(given, kDesk);
    FAIL() << "a duplicate accession number was accepted";
  } catch (const DomainError& e) {
    EXPECT_EQ(DomainError::Kind::kConflict, e.GetKind());
  }
  EXPECT_EQ(3, AuditCount("order.created"));
  EXPECT_EQ((std::vector<std::string>{"202611290001", "202611290002", "ACC-7"}), told)
      << "listeners hear of each committed order once, and not of a refused one";
  EXPECT_EQ("A20261129-01", ExpandAccessionPattern("A{YYYY}{MM}{DD}-{SEQ:2}", "20261129", "HOS", 1));
  EXPECT_THROW(ExpandAccessionPattern("{YYYY}", "20261129", "HOS", 1), std::invalid_argument);
}

TEST_F(Orders, BadInputIsNamedAndThePastOnlyWarned) {
  OrderDraft draft = Draft();
  draft.patientName.reset();
  try {
    service->Create(draft, kDesk);
    FAIL();
  } catch (const DomainError& e) {
    EXPECT_NE(std::string::npos, e.Detail().find("patient_name"));
  }
  draft = Draft();
  draft.scheduledStart = "29/11/2026";
  EXPECT_THROW(service->Create(draft, kDesk), DomainError);
  draft = Draft();
  draft.patientName = "DOE\\JANE";
  EXPECT_THROW(service->Create(draft, kDesk), DomainError);
  draft = Draft();
  draft.scheduledStart = "2026-11-01T08:00";
  CreatedOrder past = service->Create(draft, kDesk);
  ASSERT_EQ(1u, past.warnings.size());
  EXPECT_NE(std::string::npos, past.warnings[0].find("past"));
  // A zone is turned into the server's local time.
  std::string da, tm;
  int64_t unix = 0;
  ASSERT_TRUE(OrderService::ParseScheduledStart("2026-11-29T10:30:00Z", da, tm, unix));
  EXPECT_EQ(1795948200, unix);
  EXPECT_FALSE(OrderService::ParseScheduledStart("2026-02-31T10:30", da, tm, unix));
}

TEST_F(Orders, StatusesFollowTheProcedureStep) {
  const int64_t id = service->Create(Draft(), kDesk).order.id;
  EXPECT_EQ("arrived", service->Arrive(id, kDesk).status);
  EXPECT_EQ("arrived", service->Arrive(id, kDesk).status);    // twice is once
  EXPECT_THROW(service->Cancel(id, "", kDesk), DomainError);  // a reason is required
  OrderDraft reschedule;
  reschedule.scheduledStart = "2026-11-30T09:00";
  reschedule.stationAet = "CT2";
  EXPECT_EQ("20261130", service->Update(id, reschedule, kDesk).order.scheduledDate);
  EXPECT_EQ("cancelled", service->Cancel(id, "patient ill", kDesk).status);
  EXPECT_THROW(service->Arrive(id, kDesk), DomainError);
  EXPECT_THROW(service->Update(id, reschedule, kDesk), DomainError);
  const std::vector<OrderHistoryEntry> history = store->History(id);
  ASSERT_EQ(4u, history.size());
  EXPECT_EQ("order.created", history[0].action);
  EXPECT_EQ("order.arrived", history[1].action);
  EXPECT_EQ("CT2", history[2].detail["changed"]["station_aet"]["to"].asString());
  EXPECT_EQ("cancelled", history[3].toStatus);
  EXPECT_EQ(1, AuditCount("order.cancelled"));
  EXPECT_TRUE(OrderStatus::CanChange("in-progress", "discontinued"));
  EXPECT_FALSE(OrderStatus::CanChange("completed", "scheduled"));
  EXPECT_FALSE(OrderStatus::CanChange("cancelled", "in-progress"));
}

TEST_F(Orders, ArrivingStudiesMoveTheirOrderAndUnknownOnesAreListed) {
  const Order order = service->Create(Draft(), kDesk).order;
  ArrivalMatcher matcher(*service);
  // By StudyInstanceUID: first images, then complete; each event twice.
  const StudyRecord study = Study("o1", order.studyUid, "", "P1");
  matcher.Handle("indexed", "o1", study);
  matcher.Handle("indexed", "o1", study);
  EXPECT_EQ("in-progress", store->Find(order.id)->status);
  matcher.Handle("stable", "o1", study);
  matcher.Handle("stable", "o1", study);
  EXPECT_EQ("completed", store->Find(order.id)->status);
  EXPECT_EQ(1, AuditCount("order.started"));
  EXPECT_EQ(1, AuditCount("order.completed"));
  ASSERT_EQ(1u, store->LinksOfOrder(order.id).size());
  EXPECT_EQ("study-uid", store->LinksOfOrder(order.id)[0].matchedBy);

  // By accession number with the same PatientID.
  const Order second = service->Create(Draft("P2"), kDesk).order;
  matcher.Handle("indexed", "o2", Study("o2", "1.2.3.2", second.accession, "P2"));
  EXPECT_EQ("in-progress", store->Find(second.id)->status);
  EXPECT_EQ("accession", store->LinksOfOrder(second.id)[0].matchedBy);

  // The accession of another patient, no order at all, a cancelled order.
  const Order third = service->Create(Draft("P3"), kDesk).order;
  matcher.Handle("indexed", "o3", Study("o3", "1.2.3.3", third.accession, "P-OTHER"));
  matcher.Handle("indexed", "o4", Study("o4", "1.2.3.4", "", "P4"));
  service->Cancel(third.id, "wrong exam", kDesk);
  matcher.Handle("indexed", "o5", Study("o5", "1.2.3.5", third.accession, "P3"));
  matcher.Handle("indexed", "o6", Study("o6", "1.2.3.6", "ACC-NOBODY", "P6"));
  int64_t total = 0;
  std::vector<OrderMismatch> list = store->Mismatches(true, 10, 0, total);
  ASSERT_EQ(4, total);
  std::map<std::string, std::string> kinds;
  for (const OrderMismatch& m : list) kinds[m.orthancId] = m.kind;
  EXPECT_EQ("patient-differs", kinds["o3"]);
  EXPECT_EQ("no-accession", kinds["o4"]) << "said apart: the router waits for an accession number too";
  EXPECT_EQ("order-cancelled", kinds["o5"]);
  EXPECT_EQ("no-order", kinds["o6"]);
  EXPECT_EQ("cancelled", store->Find(third.id)->status);
  // Deleted from Orthanc: off the list.
  matcher.Handle("deleted", "o4", std::nullopt);
  store->Mismatches(true, 10, 0, total);
  EXPECT_EQ(3, total);
}

TEST_F(Orders, TheWorklistOffersScheduledOrdersToKnownCallersOnly) {
  RecordingAudit audit;
  WorklistService worklist(*store, config.orders.worklist, audit, clock);
  const Order order = service->Create(Draft("P1", "MÜLLER^ZOË"), kDesk).order;
  service->Create(Draft("P2", "SMITH^JOHN"), kDesk);
  const Json::Value query =
      Query({{"0010,0010", "müller*"}}, {{"0040,0001", "CT1"}, {"0040,0002", "20261129"}});
  WorklistAnswers answers = worklist.Answer(query, "CT1", "HBRIDGE");
  ASSERT_EQ(1u, answers.answers.size());
  EXPECT_EQ(order.accession, answers.answers[0]["0008,0050"].asString());
  EXPECT_FALSE(answers.incomplete);
  // Unknown callers are refused and audited, once a minute.
  EXPECT_THROW(worklist.Answer(query, "ROGUE", "HBRIDGE"), DomainError);
  EXPECT_THROW(worklist.Answer(query, "ROGUE", "HBRIDGE"), DomainError);
  ASSERT_EQ(1u, audit.events.size());
  EXPECT_EQ("worklist.refused", audit.events[0].action);
  EXPECT_EQ("ROGUE", audit.events[0].actorName);
  // Cancelled orders leave the worklist; the limit marks the answer incomplete.
  service->Cancel(order.id, "no show", kDesk);
  EXPECT_TRUE(worklist.Answer(query, "CT1", "HBRIDGE").answers.empty());
  for (int i = 0; i < 3; i++) service->Create(Draft("P9"), kDesk);
  config.orders.worklist.maxAnswers = 2;
  answers = worklist.Answer(Query({}, {{"0040,0001", "CT1"}}), "CT1", "HBRIDGE");
  EXPECT_EQ(2u, answers.answers.size());
  EXPECT_TRUE(answers.incomplete);
  // Orthanc's own list of modalities, from /modalities?expand.
  Json::Value modalities;
  modalities["mr"]["AET"] = "MR1";
  modalities["us"]["AET"] = "US1";
  modalities["us"]["AllowFindWorklist"] = false;
  worklist.Callers().Load(modalities);
  EXPECT_TRUE(worklist.Callers().Allows("MR1"));
  EXPECT_FALSE(worklist.Callers().Allows("US1"));
  EXPECT_FALSE(worklist.Callers().Allows("CT1"));
}

TEST_F(Orders, FhirServiceRequestsNameWhatIsMissing) {
  Json::Value request;
  request["resourceType"] = "ServiceRequest";
  request["status"] = "active";
  request["subject"]["reference"] = "#p1";
  request["contained"][0]["resourceType"] = "Patient";
  request["contained"][0]["id"] = "p1";
  request["contained"][0]["identifier"][0]["system"] = "http://sys-ids.kemkes.go.id/mrn/100";
  request["contained"][0]["identifier"][0]["value"] = "MRN-1";
  request["contained"][0]["identifier"][1]["system"] = "https://fhir.kemkes.go.id/id/nik";
  request["contained"][0]["identifier"][1]["value"] = "3171000000000001";
  request["contained"][0]["name"][0]["family"] = "Santoso";
  request["contained"][0]["name"][0]["given"][0] = "Budi";
  request["identifier"][0]["system"] = "http://sys-ids.kemkes.go.id/acsn/100";
  request["identifier"][0]["value"] = "ACSN-1";
  request["orderDetail"][0]["coding"][0]["system"] = "http://dicom.nema.org/resources/ontology/DCM";
  request["orderDetail"][0]["coding"][0]["code"] = "DX";
  request["orderDetail"][1]["coding"][0]["system"] = "http://sys-ids.kemkes.go.id/ae-title";
  request["orderDetail"][1]["coding"][0]["display"] = "XR0001";
  request["code"]["coding"][0]["system"] = "http://loinc.org";
  request["code"]["coding"][0]["code"] = "24648-8";
  request["code"]["coding"][0]["display"] = "XR Chest PA upright";
  request["occurrenceDateTime"] = "2026-11-29T03:00:00+00:00";
  request["requester"]["display"] = "Dokter Bronsig";
  request["priority"] = "asap";
  const OrderDraft draft = DraftFromServiceRequest(request, config.orders.fhir);
  EXPECT_EQ("MRN-1", *draft.patientId);
  EXPECT_EQ("3171000000000001", *draft.nationalId);
  EXPECT_EQ("Santoso^Budi", *draft.patientName);
  EXPECT_EQ("ACSN-1", *draft.accession);
  EXPECT_EQ("DX", *draft.modality);
  EXPECT_EQ("XR0001", *draft.stationAet);
  EXPECT_EQ("24648-8", *draft.procedureCode);
  EXPECT_EQ("LN", *draft.procedureScheme);
  EXPECT_EQ("urgent", *draft.priority);
  const Order order = service->Create(draft, kDesk).order;
  const Json::Value answer = ServiceRequestOf(order, config.orders.fhir);
  EXPECT_EQ(std::to_string(order.id), answer["id"].asString());
  bool uid = false;
  for (const Json::Value& identifier : answer["identifier"]) {
    uid |= identifier["system"] == "urn:dicom:uid" && identifier["value"] == "urn:oid:" + order.studyUid;
  }
  EXPECT_TRUE(uid);

  auto detailOf = [this](const Json::Value& resource) {
    try {
      DraftFromServiceRequest(resource, config.orders.fhir);
    } catch (const DomainError& e) {
      return e.Detail();
    }
    return std::string("accepted");
  };
  Json::Value noAccession = request;
  noAccession.removeMember("identifier");
  EXPECT_NE(std::string::npos, detailOf(noAccession).find("ServiceRequest.identifier"));
  Json::Value noPatient = request;
  noPatient.removeMember("contained");
  EXPECT_NE(std::string::npos, detailOf(noPatient).find("ServiceRequest.contained"));
  Json::Value noSubject = request;
  noSubject.removeMember("subject");
  EXPECT_NE(std::string::npos, detailOf(noSubject).find("ServiceRequest.subject"));
  // An identifier typed ACSN counts whatever its system.
  Json::Value typed = request;
  typed["identifier"][0]["system"] = "urn:other";
  typed["identifier"][0]["type"]["coding"][0]["code"] = "ACSN";
  EXPECT_EQ("accepted", detailOf(typed));
}

namespace {
class DeletingOrthanc : public CannedOrthanc {
 public:
  bool Delete(const std::string& uri) override {
    deleted.push_back(uri);
    return true;
  }
  std::vector<std::string> deleted;
};
}  // namespace

TEST_F(Orders, AttachingCopiesWithTheOrdersTagsThenDeletesTheOriginal) {
  const Order order = service->Create(Draft("P1", "DOE^JANE"), kDesk).order;
  ArrivalMatcher matcher(*service);
  matcher.Handle("indexed", "orig", Study("orig", "1.2.9", "", "WRONG"));
  DeletingOrthanc orthanc;
  Json::Value three(Json::arrayValue);
  for (const char* id : {"i1", "i2", "i3"}) three.append(Json::Value(Json::objectValue))["ID"] = id;
  orthanc.Set("/studies/orig/instances", three);
  for (const char* id : {"i1", "i2", "i3"})
    orthanc.answers["POST /instances/" + std::string(id) + "/modify"] = "DICM";
  orthanc.answers["POST /instances"] = "{\"ID\": \"c\", \"ParentStudy\": \"copy\", \"Status\": \"Success\"}";
  // The copy lacks an instance: the original stays.
  Json::Value two(Json::arrayValue);
  two.append(Json::Value(Json::objectValue));
  two.append(Json::Value(Json::objectValue));
  orthanc.Set("/studies/copy/instances", two);
  Reconciler reconciler(*service, orthanc);
  EXPECT_THROW(reconciler.Attach("unknown", order.id, kDesk), DomainError);
  const OrderAttachment attachment = reconciler.Attach("orig", order.id, kDesk);
  EXPECT_THROW(reconciler.Attach("orig", order.id, kDesk), DomainError);  // once at a time
  EXPECT_FALSE(reconciler.Step());
  ASSERT_EQ(6u, orthanc.posted.size());  // modify and store, three times
  EXPECT_EQ("/instances/i1/modify", orthanc.posted[0].first);
  EXPECT_EQ("/instances", orthanc.posted[1].first);
  Json::Value modify;
  ASSERT_TRUE(JsonText::Parse(orthanc.posted[0].second, modify));
  EXPECT_EQ(order.studyUid, modify["Replace"]["StudyInstanceUID"].asString());
  EXPECT_EQ(order.accession, modify["Replace"]["AccessionNumber"].asString());
  EXPECT_EQ("P1", modify["Replace"]["PatientID"].asString());
  EXPECT_EQ("SOPInstanceUID", modify["Keep"][1].asString());
  EXPECT_EQ("failed", store->FindAttachment(attachment.id)->state);
  EXPECT_TRUE(orthanc.deleted.empty());
  // Again, with a complete copy.
  const OrderAttachment again = reconciler.Attach("orig", order.id, kDesk);
  orthanc.Set("/studies/copy/instances", three);
  reconciler.Step();
  EXPECT_EQ("done", store->FindAttachment(again.id)->state);
  ASSERT_EQ(1u, orthanc.deleted.size());
  EXPECT_EQ("/studies/orig", orthanc.deleted[0]);
  EXPECT_EQ("attached", store->FindMismatch("orig")->resolution);
  EXPECT_EQ(4, AuditCount("order.reconciled"));  // requested, failed, requested, done
}
