// hb-bench-federation-populate: fills one site's HospitalBridge database for
// the federation benchmark (bench/federation/run.py) and, optionally, times
// national-ID lookups in-process: the same code (PatientStore) and the same
// SQLite file the plugin uses, without HTTP.
//
//   hb-bench-federation-populate --database PATH --site-id HOS-002 --patients 1000000
//       --studies 100000 --seed 42 [--shared-patients 10000] [--lookup-benchmark 20000]
//       [--summary OUT.json]
//
// Every row goes through the real stores: PatientStore::Create (one entry and
// its identifier at this site per call) and StudyIndexStore::Upsert. Both open
// their own transaction (BEGIN IMMEDIATE), so no outer transaction can wrap
// them; instead, while loading, this tool's own connection runs with
// journal_mode=MEMORY and synchronous=OFF and a large page cache, which makes
// each of those small transactions cheap. The file is switched back to WAL
// (what the plugin uses) before the tool ends. A crash while loading can leave
// a damaged file: it is a benchmark fixture, populate again.
//
// Deterministic: the same --patients/--seed give the same national IDs and
// demographics at every site, so that sites share patients.
//   national ID of patient i (0 <= i < patients) = 100000000000 + (i * 104729314187) mod 900000000000
//   (12 digits; a bijection, so no two patients share one).
// Patients 0 .. shared-1 have two studies at every site populated with the
// same --patients/--seed ("shared"); the second study of an even i has the
// same StudyInstanceUID at every site (one study sent to all of them). The
// other studies go to site-specific patients, 1 to 4 studies each, in a block
// of patient indices that starts after the shared ones at
// shared + (site number - 1) * (studies - 2 * shared) (wrapping around).
// Patients from the last tenth of the indices get no study at a site unless
// the blocks wrap there ("registry only").
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../common/BenchSupport.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Common/SqliteDatabase.h"
#include "Common/Time.h"
#include "Federation/FederationService.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"

namespace {
using namespace HospitalBridge;
using namespace BenchSupport;

const uint64_t kNationalIdBase = 100000000000ULL;
const uint64_t kNationalIdRange = 900000000000ULL;
const uint64_t kNationalIdMultiplier = 104729314187ULL;  // 104729 * 1000003: prime to 2, 3 and 5
const uint64_t kMaxPatients = 50000000ULL;               // keeps i * multiplier below 2^64

struct Options {
  std::string database;
  std::string siteId = "HOS-001";
  int siteNumber = 0;  // from the site id's trailing digits unless given
  int64_t patients = 0;
  int64_t studies = 0;
  int64_t shared = -1;  // default: min(10000, studies / 4, patients / 2)
  uint64_t seed = 1;
  int64_t lookups = 0;
  std::string summary;
};

[[noreturn]] void Usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "error: " << problem << "\n";
  std::cerr << "usage: hb-bench-federation-populate --database PATH --site-id ID --patients N --studies M\n"
               "         --seed S [--site-number K] [--shared-patients P] [--lookup-benchmark K]\n"
               "         [--summary OUT.json]\n";
  std::exit(2);
}

int64_t ParseCount(const std::string& name, const std::string& text) {
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0) Usage("bad value for " + name + ": " + text);
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  bool haveDatabase = false;
  for (int i = 1; i < argc; i++) {
    std::string name = argv[i];
    if (name == "--help" || name == "-h") Usage("");
    if (i + 1 >= argc) Usage("missing value after " + name);
    std::string value = argv[++i];
    if (name == "--database") {
      options.database = value;
      haveDatabase = true;
    } else if (name == "--site-id") {
      options.siteId = value;
    } else if (name == "--site-number") {
      options.siteNumber = static_cast<int>(ParseCount(name, value));
    } else if (name == "--patients") {
      options.patients = ParseCount(name, value);
    } else if (name == "--studies") {
      options.studies = ParseCount(name, value);
    } else if (name == "--shared-patients") {
      options.shared = ParseCount(name, value);
    } else if (name == "--seed") {
      options.seed = static_cast<uint64_t>(ParseCount(name, value));
    } else if (name == "--lookup-benchmark") {
      options.lookups = ParseCount(name, value);
    } else if (name == "--summary") {
      options.summary = value;
    } else {
      Usage("unknown option " + name);
    }
  }
  if (!haveDatabase) Usage("--database is required");
  if (static_cast<uint64_t>(options.patients) > kMaxPatients) Usage("--patients is at most 50000000");
  if (options.siteNumber == 0) {
    size_t digits = options.siteId.find_last_not_of("0123456789");
    std::string tail = digits == std::string::npos ? options.siteId : options.siteId.substr(digits + 1);
    options.siteNumber = tail.empty() ? 1 : std::max(1, std::atoi(tail.c_str()));
  }
  if (options.shared < 0) {
    options.shared = std::min<int64_t>({10000, options.studies / 4, options.patients / 2});
  }
  options.shared = std::min<int64_t>({options.shared, options.studies / 2, options.patients});
  return options;
}

// splitmix64's finalizer: a bijection on 64 bits.

std::string NationalId(int64_t index) {
  uint64_t value =
      kNationalIdBase + (static_cast<uint64_t>(index) * kNationalIdMultiplier) % kNationalIdRange;
  return std::to_string(value);
}

const char* const kFirstNames[] = {"THANDI",  "SIPHO",   "ANNA",   "PIETER",    "LERATO",  "JOHN",
                                   "MARY",    "AHMED",   "FATIMA", "NOMVULA",   "JAMES",   "SARAH",
                                   "DAVID",   "GRACE",   "PETER",  "ELIZABETH", "THABO",   "ZANELE",
                                   "MICHAEL", "LINDIWE", "JOSEPH", "NALEDI",    "DANIEL",  "PRECIOUS",
                                   "ROBERT",  "MARIA",   "KAGISO", "AISHA",     "WILLIAM", "JOHANNA"};
const char* const kLastNames[] = {
    "NKOSI",  "MOKOENA", "VAN DER MERWE", "DLAMINI", "SMITH",     "NAIDOO",   "BOTHA",      "KHUMALO",
    "PILLAY", "MOLOI",   "JOHNSON",       "NDLOVU",  "PRETORIUS", "MAHLANGU", "WILLIAMS",   "SITHOLE",
    "JACOBS", "MTHEMBU", "FOURIE",        "ZULU",    "BROWN",     "MKHIZE",   "DU PLESSIS", "SINGH",
    "NGCOBO", "ADAMS",   "RADEBE",        "OLIVIER", "MASILELA",  "COETZEE"};

struct Modality {
  const char* codes[2];
  const char* descriptions[3];
  int maxSeries;
  int maxInstances;
};
const Modality kModalities[] = {
    {{"CT", nullptr}, {"CT CHEST WITH CONTRAST", "CT HEAD WITHOUT CONTRAST", "CT ABDOMEN PELVIS"}, 6, 600},
    {{"MR", nullptr}, {"MRI BRAIN", "MRI KNEE LEFT", "MRI LUMBAR SPINE"}, 8, 300},
    {{"CR", nullptr}, {"CHEST PA AND LATERAL", "HAND RIGHT", "PELVIS AP"}, 2, 3},
    {{"DX", nullptr}, {"CHEST AP PORTABLE", "KNEE RIGHT 2 VIEWS", "SPINE CERVICAL"}, 2, 4},
    {{"US", nullptr}, {"US ABDOMEN", "US OBSTETRIC", "US THYROID"}, 2, 60},
    {{"MG", nullptr},
     {"MAMMOGRAPHY BILATERAL SCREENING", "MAMMOGRAPHY DIAGNOSTIC", "MAMMO TOMOSYNTHESIS"},
     1,
     8},
    {{"PT", "CT"}, {"PET-CT WHOLE BODY", "PET-CT FDG ONCOLOGY", "PET-CT RESTAGING"}, 5, 900},
};
const char* const kSenders[] = {"CT_SCANNER1", "MR_3T", "CR_ROOM2", "US_PORTABLE", "MAMMO1", "PETCT1"};

Patient MakePatient(int64_t index, uint64_t seed, const std::string& siteId) {
  Random random(Mix(seed * 1000003ULL + static_cast<uint64_t>(index)));
  Patient patient;
  patient.nationalId = NationalId(index);
  patient.firstName = random.Pick(kFirstNames);
  patient.lastName = random.Pick(kLastNames);
  char date[16];
  std::snprintf(date, sizeof(date), "%04d%02d%02d", static_cast<int>(1930 + random.Below(91)),
                static_cast<int>(1 + random.Below(12)), static_cast<int>(1 + random.Below(28)));
  patient.birthDate = date;
  patient.sex = random.Below(2) == 0 ? "F" : "M";
  char phone[24];
  std::snprintf(phone, sizeof(phone), "+27 %02d %03d %04d", static_cast<int>(10 + random.Below(80)),
                static_cast<int>(random.Below(1000)), static_cast<int>(random.Below(10000)));
  patient.phone = phone;
  patient.status = "registered";
  patient.identifiers.push_back(PatientIdentifier{siteId, patient.nationalId, ""});
  return patient;
}

std::string Hex(uint64_t value, int digits) {
  char text[20];
  std::snprintf(text, sizeof(text), "%016" PRIx64, value);
  return std::string(text + 16 - digits);
}

// Looks like Orthanc's SHA-1 based IDs; unique per (site, serial).
std::string OrthancId(int siteNumber, int64_t serial) {
  uint64_t key = (static_cast<uint64_t>(siteNumber) << 40) | static_cast<uint64_t>(serial);
  uint64_t a = Mix(key), b = Mix(key ^ 0x5bd1e995ULL), c = Mix(key ^ 0x1b873593ULL);
  std::string hex = Hex(a, 16) + Hex(b, 16) + Hex(c, 8);
  return hex.substr(0, 8) + "-" + hex.substr(8, 8) + "-" + hex.substr(16, 8) + "-" + hex.substr(24, 8) + "-" +
         hex.substr(32, 8);
}

StudyRecord MakeStudy(const Patient& patient, int siteNumber, int64_t serial, const std::string& studyUid,
                      uint64_t seed) {
  Random random(Mix(seed ^ Mix(static_cast<uint64_t>(serial) * 31 + static_cast<uint64_t>(siteNumber))));
  const Modality& modality = kModalities[random.Below(sizeof(kModalities) / sizeof(kModalities[0]))];
  StudyRecord study;
  study.orthancId = OrthancId(siteNumber, serial);
  study.studyUid = studyUid;
  study.patientId = patient.nationalId;
  study.patientName = patient.lastName + "^" + patient.firstName;
  study.patientBirthDate = patient.birthDate;
  study.patientSex = patient.sex;
  int year = static_cast<int>(2005 + random.Below(21));
  int month = static_cast<int>(1 + random.Below(12));
  int day = static_cast<int>(1 + random.Below(28));
  int hour = static_cast<int>(7 + random.Below(12));
  int minute = static_cast<int>(random.Below(60));
  int second = static_cast<int>(random.Below(60));
  char text[32];
  std::snprintf(text, sizeof(text), "%04d%02d%02d", year, month, day);
  study.studyDate = text;
  std::snprintf(text, sizeof(text), "%02d%02d%02d", hour, minute, second);
  study.studyTime = text;
  study.description = modality.descriptions[random.Below(3)];
  std::snprintf(text, sizeof(text), "ACC%d%08" PRId64, siteNumber, serial);
  study.accessionNumber = text;
  for (const char* code : modality.codes) {
    if (code != nullptr) study.modalities.push_back(code);
  }
  study.seriesCount = 1 + random.Below(modality.maxSeries);
  study.instanceCount = study.seriesCount * (1 + random.Below(modality.maxInstances));
  // Received on the study's day, in UTC.
  int64_t days = 0;
  {
    // days since 1970-01-01 (civil calendar)
    int y = year - (month <= 2 ? 1 : 0);
    int era = y / 400;
    int yoe = y - era * 400;
    int mp = (month + 9) % 12;
    int doy = (153 * mp + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  }
  study.firstReceived = days * 86400 + hour * 3600 + minute * 60 + second + 120;
  study.lastReceived = study.firstReceived + 5 + random.Below(600);
  std::snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02d%02d", year, month, day, hour, minute, second);
  study.orthancLastUpdate = text;
  const char* sender = random.Pick(kSenders);
  for (int64_t s = 0; s < study.seriesCount; s++) {
    StudySource source;
    source.seriesId = OrthancId(siteNumber + 100, serial * 16 + s);
    source.origin = "DicomProtocol";
    source.aet = sender;
    source.ip = "10.0." + std::to_string(siteNumber) + "." + std::to_string(10 + random.Below(200));
    source.received = study.firstReceived + s;
    study.sources.push_back(source);
  }
  return study;
}

void Progress(const char* what, int64_t done, int64_t total, Clock::time_point started) {
  double elapsed = Seconds(started);
  std::printf("  %s: %" PRId64 " / %" PRId64 " (%.0f%%) in %.1f s, %.0f/s\n", what, done, total,
              total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, elapsed,
              elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
  std::fflush(stdout);
}

int64_t CountRows(IDatabase& database, const std::string& table) {
  Transaction transaction(database, TransactionMode::kRead);
  Statement count(transaction, "SELECT count(*) FROM " + table);
  count.Step();
  return count.ColumnInt(0);
}

class NoPeers : public IPeerClient {
 public:
  bool Knows(const std::string&) override { return false; }
  PeerAnswer Get(const std::string&, const std::string&, int) override { return PeerAnswer{}; }
};

struct Populated {
  double patientSeconds = 0;
  double studySeconds = 0;
  int64_t patientsInserted = 0;
  int64_t studiesInserted = 0;
  std::vector<std::string> sampleShared;    // studies here and at every other site
  std::vector<std::string> sampleSiteOnly;  // studies at this site only (as far as this tool knows)
};

Populated Populate(const Options& options) {
  Populated result;
  SqliteDatabase database(options.database);
  MigrateDatabase(database, EmbeddedMigrations());
  // Bulk-load settings of this connection only (see the top of the file).
  database.Pragma(
      "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; "
      "PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE;");
  PatientStore patients(database);
  StudyIndexStore studies(database);

  int64_t existingPatients = CountRows(database, "patients");
  if (options.patients > 0 && existingPatients > 0) {
    std::printf("%s: %" PRId64 " patients already there, none added\n", options.database.c_str(),
                existingPatients);
  } else if (options.patients > 0) {
    std::printf("%s: %" PRId64 " patients through PatientStore::Create\n", options.database.c_str(),
                options.patients);
    Clock::time_point started = Clock::now();
    int64_t step = std::max<int64_t>(1, options.patients / 10);
    for (int64_t i = 0; i < options.patients; i++) {
      patients.Create(MakePatient(i, options.seed, options.siteId));
      if ((i + 1) % step == 0 || i + 1 == options.patients)
        Progress("patients", i + 1, options.patients, started);
    }
    result.patientSeconds = Seconds(started);
    result.patientsInserted = options.patients;
  }

  int64_t total = options.patients > 0 ? options.patients : CountRows(database, "patients");
  int64_t existingStudies = CountRows(database, "studies");
  if (options.studies > 0 && existingStudies > 0) {
    std::printf("%s: %" PRId64 " studies already there, none added\n", options.database.c_str(),
                existingStudies);
  } else if (options.studies > 0 && total == 0) {
    throw std::runtime_error("studies need patients: give --patients");
  } else if (options.studies > 0) {
    std::printf("%s: %" PRId64 " studies through StudyIndexStore::Upsert (%" PRId64
                " shared patients with 2 studies at every site)\n",
                options.database.c_str(), options.studies, options.shared);
    Clock::time_point started = Clock::now();
    int64_t step = std::max<int64_t>(1, options.studies / 10);
    int64_t serial = 0;
    auto add = [&](int64_t patientIndex, const std::string& uid) {
      Patient patient = MakePatient(patientIndex, options.seed, options.siteId);
      studies.Upsert(MakeStudy(patient, options.siteNumber, serial, uid, options.seed));
      serial++;
      if (serial % step == 0 || serial == options.studies)
        Progress("studies", serial, options.studies, started);
    };
    const std::string root = "1.2.826.0.1.3680043.10.543.";
    for (int64_t i = 0; i < options.shared; i++) {
      add(i, root + std::to_string(options.siteNumber) + "." + std::to_string(serial));
      std::string second = i % 2 == 0
                               ? root + "0." + std::to_string(i)
                               : root + std::to_string(options.siteNumber) + "." + std::to_string(serial);
      add(i, second);
      if (i % std::max<int64_t>(1, options.shared / 100) == 0) result.sampleShared.push_back(NationalId(i));
    }
    int64_t rest = options.studies - 2 * options.shared;
    int64_t pool = std::max<int64_t>(1, total - options.shared);
    int64_t next = (static_cast<int64_t>(options.siteNumber - 1) * rest) % pool;
    Random random(Mix(options.seed * 7 + static_cast<uint64_t>(options.siteNumber)));
    int64_t patientsWithStudies = 0;
    while (serial < options.studies) {
      int64_t index = options.shared + next % pool;
      next++;
      int64_t count = std::min<int64_t>(1 + random.Below(4), options.studies - serial);
      for (int64_t k = 0; k < count; k++) {
        add(index, root + std::to_string(options.siteNumber) + "." + std::to_string(serial));
      }
      if (patientsWithStudies++ % 97 == 0 && result.sampleSiteOnly.size() < 400) {
        result.sampleSiteOnly.push_back(NationalId(index));
      }
    }
    result.studySeconds = Seconds(started);
    result.studiesInserted = serial;
  }
  database.Pragma("PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  return result;
}

struct LookupResult {
  int64_t registrySize = 0;
  int64_t studies = 0;
  Percentiles lookup;  // microseconds
  Percentiles answer;  // microseconds
  int64_t found = 0;
  int64_t answered = 0;
  int64_t answeredStudies = 0;
};

// A fresh connection with the plugin's own settings (MigrateDatabase's
// pragmas, SQLite's default page cache), as Orthanc would open it.
LookupResult Benchmark(const Options& options, const std::vector<std::string>& withStudies) {
  LookupResult result;
  SqliteDatabase database(options.database);
  MigrateDatabase(database, EmbeddedMigrations());
  PatientStore patients(database);
  StudyIndexStore studies(database);
  result.registrySize = CountRows(database, "patients");
  result.studies = CountRows(database, "studies");
  if (result.registrySize == 0) throw std::runtime_error("the registry is empty: nothing to look up");
  int64_t range = options.patients > 0 ? options.patients : result.registrySize;

  Random random(Mix(options.seed ^ 0xabcdefULL));
  int64_t warmup = std::min<int64_t>(options.lookups, 1000);
  for (int64_t i = 0; i < warmup; i++) patients.FindByNationalId(NationalId(random.Below(range)));
  std::vector<double> times;
  times.reserve(static_cast<size_t>(options.lookups));
  for (int64_t i = 0; i < options.lookups; i++) {
    std::string id = NationalId(random.Below(range));
    Clock::time_point started = Clock::now();
    std::optional<Patient> found = patients.FindByNationalId(id);
    times.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
    if (found) result.found++;
  }
  result.lookup = Summarize(times);

  // What a peer does for GET /bridge/federation/v1/studies, minus HTTP:
  // the lookup, the study search and the answer's JSON.
  if (!withStudies.empty()) {
    SiteSettings site;
    site.siteId = options.siteId;
    site.siteName = options.siteId;
    SiteStore sites(database);
    NoPeers peers;
    FederationService federation(site, FederationSettings{}, sites, patients, studies, peers);
    std::vector<double> answers;
    int64_t rounds =
        std::max<int64_t>(static_cast<int64_t>(withStudies.size()), std::min<int64_t>(options.lookups, 2000));
    for (int64_t i = 0; i < rounds; i++) {
      const std::string& id = withStudies[static_cast<size_t>(i) % withStudies.size()];
      Clock::time_point started = Clock::now();
      Json::Value answer = federation.AnswerPeer(id);
      std::string body = JsonText::Write(answer);
      answers.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
      if (answer["patient"].isObject()) result.answered++;
      result.answeredStudies += static_cast<int64_t>(answer["studies"].size());
    }
    result.answer = Summarize(answers);
  }
  return result;
}

std::vector<std::string> SampleFromDatabase(const Options& options) {
  // On an existing file: national IDs of patients that have studies here.
  SqliteDatabase database(options.database);
  std::vector<std::string> ids;
  Transaction transaction(database, TransactionMode::kRead);
  Statement select(transaction, "SELECT DISTINCT patient_id FROM studies LIMIT 400");
  while (select.Step()) ids.push_back(select.ColumnText(0));
  return ids;
}
}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  Log::SetSink([](Log::Level level, const std::string& message) {
    if (level != Log::Level::kInfo) std::cerr << message << "\n";
  });
  try {
    Clock::time_point started = Clock::now();
    Populated populated = Populate(options);
    Json::Value summary(Json::objectValue);
    summary["database"] = options.database;
    summary["site_id"] = options.siteId;
    summary["site_number"] = options.siteNumber;
    summary["seed"] = static_cast<Json::UInt64>(options.seed);
    summary["shared_patients"] = static_cast<Json::Int64>(options.shared);
    summary["patients_inserted"] = static_cast<Json::Int64>(populated.patientsInserted);
    summary["studies_inserted"] = static_cast<Json::Int64>(populated.studiesInserted);
    summary["patient_seconds"] = populated.patientSeconds;
    summary["study_seconds"] = populated.studySeconds;
    summary["sample_shared"] = Json::Value(Json::arrayValue);
    for (const std::string& id : populated.sampleShared) summary["sample_shared"].append(id);
    summary["sample_site_only"] = Json::Value(Json::arrayValue);
    for (const std::string& id : populated.sampleSiteOnly) summary["sample_site_only"].append(id);
    std::printf("%s: populated in %.1f s (patients %.1f s, studies %.1f s)\n", options.database.c_str(),
                Seconds(started), populated.patientSeconds, populated.studySeconds);

    if (options.lookups > 0) {
      std::vector<std::string> withStudies = populated.sampleShared;
      withStudies.insert(withStudies.end(), populated.sampleSiteOnly.begin(), populated.sampleSiteOnly.end());
      if (withStudies.empty()) withStudies = SampleFromDatabase(options);
      LookupResult lookup = Benchmark(options, withStudies);
      std::printf("%s: PatientStore::FindByNationalId over %" PRId64 " random national IDs (registry %" PRId64
                  ", %" PRId64 " found): p50 %.1f us, p95 %.1f us, p99 %.1f us, max %.1f us\n",
                  options.database.c_str(), options.lookups, lookup.registrySize, lookup.found,
                  lookup.lookup.p50, lookup.lookup.p95, lookup.lookup.p99, lookup.lookup.max);
      if (!withStudies.empty()) {
        std::printf("%s: FederationService::AnswerPeer + JSON (%" PRId64
                    " studies in the index, %zu patients "
                    "with studies): p50 %.1f us, p95 %.1f us, p99 %.1f us\n",
                    options.database.c_str(), lookup.studies, withStudies.size(), lookup.answer.p50,
                    lookup.answer.p95, lookup.answer.p99);
      }
      Json::Value& json = summary["lookup"];
      json["registry_size"] = static_cast<Json::Int64>(lookup.registrySize);
      json["studies"] = static_cast<Json::Int64>(lookup.studies);
      json["count"] = static_cast<Json::Int64>(options.lookups);
      json["found"] = static_cast<Json::Int64>(lookup.found);
      json["microseconds"] = ToJson(lookup.lookup);
      Json::Value& answer = summary["peer_answer_in_process"];
      answer["count"] = static_cast<Json::Int64>(std::max<size_t>(
          withStudies.size(), static_cast<size_t>(std::min<int64_t>(options.lookups, 2000))));
      answer["answered"] = static_cast<Json::Int64>(lookup.answered);
      answer["studies_returned"] = static_cast<Json::Int64>(lookup.answeredStudies);
      answer["microseconds"] = ToJson(lookup.answer);
    }
    if (!options.summary.empty()) {
      std::ofstream out(options.summary);
      out << JsonText::Write(summary) << "\n";
      if (!out) throw std::runtime_error("cannot write " + options.summary);
    }
  } catch (const std::exception& e) {
    std::cerr << "hb-bench-federation-populate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
