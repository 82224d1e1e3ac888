// hb-bench-audit-query: fills a fresh HospitalBridge database with a year of
// realistic audit events through the real, hash-chained path
// (AuditStore::Append, in batches like the recorder's) and times what
// GET /bridge/audit does for one patient, in-process (no HTTP):
//
//   hb-bench-audit-query --database PATH --events 1000000 --patients 20000 --queries 500
//       [--seed S] [--batch 1000] [--summary OUT.json] [--overwrite | --reuse]
//
// Population: one event per ~31 s over 365 days ending 2026-11-22 (ids grow
// with time, as in a running site). The mix of actions, actors and outcomes
// follows what the plugin records (see kActions); about 85 % of the events
// name a patient. Patients are "PAT-" + 10 characters derived from the seed;
// a quarter of the patient events go to the first 5 % of the patients
// (chronic patients with many studies), the rest uniformly to all, so a
// typical patient has ~30 events and a frequent one ~200. Each patient has 1
// to 5 studies (StudyInstanceUIDs derived from the patient index).
//
// Timed, on a new connection opened like the plugin opens it (MigrateDatabase's
// pragmas, SQLite's default cache), after a warm-up of min(queries, 50):
//   A  AuditStore::Query {patient_id, limit 100}            (the API's default page)
//   B  AuditStore::Query {patient_id, action, from, to}     (30 to 180 days, day aligned)
//   A+ A plus Events' JSON (ToJson of each event + JsonText::Write), what the route adds
//   C  informative: {action} only and no filter at all, first page (count over the table)
//   AuditStore::Verify over every event, once.
// The database is left in place (WAL) so that bench/audit/http_query.py can
// serve it with a real Orthanc; --summary writes the figures and the exact
// queries (patients, actions, windows) for it to replay.
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "../common/BenchSupport.h"
#include "Audit/AuditStore.h"
#include "Common/AuditEvent.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Common/SqliteDatabase.h"
#include "Common/Time.h"

namespace {
using namespace HospitalBridge;
using namespace BenchSupport;

const int64_t kDayMs = 86400LL * 1000;
const int64_t kEndMs = 1795392000LL * 1000;  // 2026-11-23T00:00:00Z
const int64_t kStartMs = kEndMs - 365 * kDayMs;

struct Options {
  std::string database;
  int64_t events = 1000000;
  int64_t patients = 20000;
  int64_t queries = 500;
  int64_t batch = 1000;
  uint64_t seed = 1;
  std::string summary;
  bool overwrite = false;
  bool reuse = false;
};

[[noreturn]] void Usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "error: " << problem << "\n";
  std::cerr << "usage: hb-bench-audit-query --database PATH [--events N] [--patients P] [--queries Q]\n"
               "         [--seed S] [--batch B] [--summary OUT.json] [--overwrite | --reuse]\n"
               "  PATH must not exist unless --overwrite (delete it and its -wal/-shm first)\n"
               "  or --reuse (time the events already there, add none).\n";
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
  for (int i = 1; i < argc; i++) {
    std::string name = argv[i];
    if (name == "--help" || name == "-h") Usage("");
    if (name == "--overwrite") {
      options.overwrite = true;
      continue;
    }
    if (name == "--reuse") {
      options.reuse = true;
      continue;
    }
    if (i + 1 >= argc) Usage("missing value after " + name);
    std::string value = argv[++i];
    if (name == "--database") {
      options.database = value;
    } else if (name == "--events") {
      options.events = ParseCount(name, value);
    } else if (name == "--patients") {
      options.patients = ParseCount(name, value);
    } else if (name == "--queries") {
      options.queries = ParseCount(name, value);
    } else if (name == "--batch") {
      options.batch = std::max<int64_t>(1, ParseCount(name, value));
    } else if (name == "--seed") {
      options.seed = static_cast<uint64_t>(ParseCount(name, value));
    } else if (name == "--summary") {
      options.summary = value;
    } else {
      Usage("unknown option " + name);
    }
  }
  if (options.database.empty()) Usage("--database is required");
  if (options.overwrite && options.reuse) Usage("--overwrite and --reuse exclude each other");
  if (options.patients < 1) Usage("--patients must be at least 1");
  return options;
}

// splitmix64's finalizer.

std::string PatientId(uint64_t seed, int64_t index) {
  static const char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  uint64_t bits = Mix(seed * 0x100000001b3ULL ^ static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL);
  std::string id = "PAT-";
  for (int i = 0; i < 10; i++) {
    id.push_back(kAlphabet[bits & 31]);
    bits >>= 5;
  }
  // 50 bits from one 64-bit mix: distinct in practice; the index keeps it sure.
  return id;
}

int StudiesOf(uint64_t seed, int64_t patient) {
  return 1 + static_cast<int>(Mix(seed ^ (static_cast<uint64_t>(patient) << 8)) % 5);
}

std::string StudyUid(int64_t patient, int study) {
  return "1.2.826.0.1.3680043.10.543.7." + std::to_string(patient) + "." + std::to_string(study);
}

uint64_t Low32(uint64_t value) { return value & 0xffffffffU; }

std::string OrthancStudyId(const std::string& uid) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : uid) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char text[48];
  std::snprintf(text, sizeof(text), "%08" PRIx64 "-%08" PRIx64 "-%08" PRIx64 "-%08" PRIx64 "-%08" PRIx64,
                Low32(Mix(h)), Low32(Mix(h + 1)), Low32(Mix(h + 2)), Low32(Mix(h + 3)), Low32(Mix(h + 4)));
  return text;
}

// Action, weight (per mille), and whether it names a patient and a study.
struct ActionShare {
  const char* action;
  int weight;
  bool patient;
  bool study;
};
const ActionShare kActions[] = {
    {"study.viewed", 470, true, true},
    {"dicom.stored", 150, true, true},
    {"study.downloaded", 80, true, true},
    {"login", 90, false, false},
    {"logout", 50, false, false},
    {"login.failed", 10, false, false},
    {"federation.query.sent", 30, true, false},
    {"federation.query.answered", 30, true, false},
    {"federation.retrieve", 20, true, true},
    {"study.exported", 20, true, true},
    {"consent.recorded", 25, true, false},
    {"study.modified", 10, true, true},
    {"study.deleted", 3, true, true},
    {"user.changed", 5, false, false},
    {"user.created", 5, false, false},
    {"system.started", 2, false, false},
};

struct User {
  std::string name;
  std::string role;
  std::string ip;
};

std::vector<User> MakeUsers(Random& random) {
  const char* const kRoles[] = {"radiologist", "radiologist", "radiologist", "technician",
                                "technician",  "reception",   "reception",   "admin"};
  std::vector<User> users;
  for (int i = 0; i < 150; i++) {
    User user;
    user.role = kRoles[random.Below(8)];
    user.name = user.role.substr(0, 3) + "." + std::to_string(1000 + i);
    user.ip = "10.1." + std::to_string(1 + i / 40) + "." + std::to_string(10 + i % 200);
    users.push_back(user);
  }
  return users;
}

const char* const kSenders[] = {"CT_SCANNER1", "MR_3T", "CR_ROOM2", "US_PORTABLE", "MAMMO1", "PETCT1"};
const char* const kPeers[] = {"HOS-002", "HOS-003", "HOS-004", "HOS-005"};

AuditEvent MakeEvent(int64_t serial, const Options& options, Random& random, const std::vector<User>& users,
                     int64_t step) {
  AuditEvent event;
  event.timeMs = kStartMs + serial * step + random.Below(step);
  int64_t pick = random.Below(1000);
  const ActionShare* share = &kActions[0];
  for (const ActionShare& candidate : kActions) {
    if (pick < candidate.weight) {
      share = &candidate;
      break;
    }
    pick -= candidate.weight;
  }
  event.action = share->action;
  int64_t patient = -1;
  if (share->patient) {
    int64_t hot = std::max<int64_t>(1, options.patients / 20);
    patient = random.Below(4) == 0 ? random.Below(hot) : random.Below(options.patients);
    event.patientId = PatientId(options.seed, patient);
  }
  int study = patient >= 0 ? static_cast<int>(random.Below(StudiesOf(options.seed, patient))) : 0;
  if (share->study) event.studyUid = StudyUid(patient, study);
  const User& user = users[static_cast<size_t>(random.Below(static_cast<int64_t>(users.size())))];
  event.actorName = user.name;
  event.actorRole = user.role;
  event.actorKind = "user";
  event.sourceIp = user.ip;
  const std::string action = event.action;
  if (action == "dicom.stored") {
    const char* aet = kSenders[random.Below(6)];
    event.actorName = aet;
    event.actorRole = "";
    event.actorKind = "dicom";
    event.sourceIp = "10.0.1." + std::to_string(20 + random.Below(6));
    int64_t instances = 1 + random.Below(600);
    event.detail["origin"] = "DicomProtocol";
    event.detail["aet"] = aet;
    event.detail["ip"] = event.sourceIp;
    event.detail["user"] = "";
    event.detail["instances"] = static_cast<Json::Int64>(instances);
    event.detail["instances_in_study"] = static_cast<Json::Int64>(instances);
  } else if (action.rfind("study.", 0) == 0) {
    static const char* const kViews[] = {"", "/series", "/instances", "/shared-tags", "/statistics"};
    std::string path = "/studies/" + OrthancStudyId(event.studyUid);
    const char* method = "GET";
    if (action == "study.viewed") path += kViews[random.Below(5)];
    if (action == "study.downloaded") path += random.Below(2) == 0 ? "/archive" : "/media";
    if (action == "study.modified") {
      path += "/modify";
      method = "POST";
    }
    if (action == "study.deleted") method = "DELETE";
    if (action == "study.exported") path = "/modalities/PACS_ARCHIVE/store";
    if (action == "study.exported") method = "POST";
    event.detail["method"] = method;
    event.detail["path"] = path;
  } else if (action == "federation.query.sent") {
    event.detail["sites"] = static_cast<Json::Int64>(1 + random.Below(4));
  } else if (action == "federation.query.answered" || action == "federation.retrieve") {
    const char* peer = kPeers[random.Below(4)];
    if (action == "federation.query.answered") {
      event.actorName = std::string("peer-") + peer;
      event.actorRole = "peer";
      event.actorKind = "peer";
      event.sourceIp = "192.168.50." + std::to_string(2 + random.Below(4));
    }
    event.detail["site"] = peer;
  } else if (action == "consent.recorded") {
    static const char* const kKinds[] = {"share", "federation", "research"};
    event.detail["kind"] = kKinds[random.Below(3)];
    event.detail["decision"] = random.Below(5) == 0 ? "deny" : "permit";
    event.detail["method"] = random.Below(2) == 0 ? "signed-form" : "verbal";
  } else if (action == "login" || action == "login.failed" || action == "logout") {
    event.detail["method"] = random.Below(3) == 0 ? "basic" : "session";
    if (action == "login.failed") {
      event.outcome = "failure";
      event.actorRole = "";
    }
  } else if (action == "user.created" || action == "user.changed") {
    event.detail["user"] = users[static_cast<size_t>(random.Below(static_cast<int64_t>(users.size())))].name;
  } else if (action == "system.started") {
    event.actorName = "HospitalBridge";
    event.actorRole = "";
    event.actorKind = "system";
    event.sourceIp = "";
    event.detail["version"] = "bench";
  }
  if (event.outcome == "success" && event.actorKind == "user" && random.Below(100) < 2)
    event.outcome = "denied";
  return event;
}

std::string IsoDay(int64_t ms) { return Time::FormatIsoUtc(ms / 1000).substr(0, 10); }

bool Exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

void Populate(const Options& options, Json::Value& summary) {
  SqliteDatabase database(options.database);
  MigrateDatabase(database, EmbeddedMigrations());
  AuditStore store(database);
  if (store.Count() > 0) throw std::runtime_error("the audit table is not empty");
  Random random(Mix(options.seed * 0x51ed27ULL + 1));
  std::vector<User> users = MakeUsers(random);
  const int64_t step = std::max<int64_t>(1, (kEndMs - kStartMs) / std::max<int64_t>(1, options.events));
  std::printf("%s: %" PRId64 " events through AuditStore::Append in batches of %" PRId64 " (%" PRId64
              " patients, %s .. %s)\n",
              options.database.c_str(), options.events, options.batch, options.patients,
              IsoDay(kStartMs).c_str(), IsoDay(kEndMs - 1).c_str());
  std::fflush(stdout);
  Clock::time_point started = Clock::now();
  double appendSeconds = 0;
  int64_t serial = 0;
  int64_t reportStep = std::max<int64_t>(options.batch, options.events / 10);
  std::vector<AuditEvent> batch;
  while (serial < options.events) {
    batch.clear();
    int64_t count = std::min(options.batch, options.events - serial);
    for (int64_t i = 0; i < count; i++) batch.push_back(MakeEvent(serial + i, options, random, users, step));
    Clock::time_point appendStarted = Clock::now();
    store.Append(batch);
    appendSeconds += Seconds(appendStarted);
    serial += count;
    if (serial % reportStep < count || serial == options.events) {
      std::printf("  events: %" PRId64 " / %" PRId64 " in %.1f s (Append alone %.1f s, %.0f events/s)\n",
                  serial, options.events, Seconds(started), appendSeconds,
                  appendSeconds > 0 ? static_cast<double>(serial) / appendSeconds : 0.0);
      std::fflush(stdout);
    }
  }
  double total = Seconds(started);
  std::printf("populated: %" PRId64 " events in %.1f s; AuditStore::Append alone %.1f s = %.0f events/s\n",
              serial, total, appendSeconds,
              appendSeconds > 0 ? static_cast<double>(serial) / appendSeconds : 0.0);
  summary["population"]["events"] = static_cast<Json::Int64>(serial);
  summary["population"]["batch"] = static_cast<Json::Int64>(options.batch);
  summary["population"]["seconds_total"] = total;
  summary["population"]["seconds_append"] = appendSeconds;
  summary["population"]["append_events_per_second"] =
      appendSeconds > 0 ? static_cast<double>(serial) / appendSeconds : 0.0;
}

std::string Plan(IDatabase& database, const std::string& where) {
  std::string text;
  Transaction transaction(database, TransactionMode::kRead);
  Statement explain(transaction,
                    "EXPLAIN QUERY PLAN SELECT * FROM audit_events " + where + " ORDER BY id DESC LIMIT 100");
  while (explain.Step()) text += (text.empty() ? "" : "; ") + explain.ColumnText(3);
  return text;
}

struct Timed {
  Percentiles ms;
  Percentiles totals;  // page.total (matching events)
  double returnedMean = 0;
};

template <typename MakeFilter>
Timed TimeQueries(AuditStore& store, int64_t count, MakeFilter make, bool withJson) {
  std::vector<double> times;
  std::vector<double> totals;
  double returned = 0;
  for (int64_t i = 0; i < count; i++) {
    AuditFilter filter = make(i);
    Clock::time_point started = Clock::now();
    AuditPage page = store.Query(filter);
    if (withJson) {
      Json::Value answer(Json::objectValue);
      Json::Value list(Json::arrayValue);
      for (const AuditEvent& event : page.events) list.append(event.ToJson());
      answer["events"] = list;
      answer["total"] = static_cast<Json::Int64>(page.total);
      std::string body = JsonText::Write(answer);
      if (body.empty()) std::abort();
    }
    times.push_back(Millis(started));
    totals.push_back(static_cast<double>(page.total));
    returned += static_cast<double>(page.events.size());
  }
  Timed timed;
  timed.ms = Summarize(times);
  timed.totals = Summarize(totals);
  timed.returnedMean = count > 0 ? returned / static_cast<double>(count) : 0;
  return timed;
}

void Print(const char* label, int64_t count, const Timed& t) {
  std::printf("%-44s n=%-5" PRId64
              " p50 %7.3f ms  p95 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (matching: median %.0f, max %.0f; "
              "returned mean %.1f)\n",
              label, count, t.ms.p50, t.ms.p95, t.ms.p99, t.ms.max, t.totals.p50, t.totals.max,
              t.returnedMean);
}

Json::Value ToJson(int64_t count, const Timed& t) {
  Json::Value json(Json::objectValue);
  json["count"] = static_cast<Json::Int64>(count);
  json["milliseconds"] = ToJson(t.ms);
  json["matching"] = ToJson(t.totals);
  json["returned_mean"] = t.returnedMean;
  return json;
}

void Benchmark(const Options& options, Json::Value& summary) {
  SqliteDatabase database(options.database);
  MigrateDatabase(database, EmbeddedMigrations());
  AuditStore store(database);
  const int64_t events = store.Count();
  if (events == 0) throw std::runtime_error("no audit events to query");
  std::printf("\n%s: %" PRId64 " audit events; fresh connection with the plugin's settings\n",
              options.database.c_str(), events);

  struct Query {
    std::string patient;
    std::string action;
    std::string from, to;  // YYYY-MM-DD, "to" inclusive (as the API reads it)
  };
  static const char* const kQueryActions[] = {"study.viewed", "dicom.stored", "study.downloaded",
                                              "consent.recorded"};
  Random random(Mix(options.seed ^ 0xa0d17ULL));
  std::vector<Query> queries;
  const int64_t warmup = std::min<int64_t>(options.queries, 50);
  for (int64_t i = 0; i < options.queries + warmup; i++) {
    Query q;
    q.patient = PatientId(options.seed, random.Below(options.patients));
    q.action = kQueryActions[random.Below(4)];
    int64_t days = 30 + random.Below(151);
    int64_t first = random.Below(365 - days + 1);
    q.from = IsoDay(kStartMs + first * kDayMs);
    q.to = IsoDay(kStartMs + (first + days - 1) * kDayMs);
    queries.push_back(q);
  }
  auto dayMs = [](const std::string& iso) {
    std::string da = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
    return Time::ParseOrthancTimestamp(da + "T000000") * 1000;
  };
  auto byPatient = [&](int64_t i) {
    AuditFilter f;
    f.patientId = queries[static_cast<size_t>(i)].patient;
    return f;
  };
  auto byPatientActionTime = [&](int64_t i) {
    const Query& q = queries[static_cast<size_t>(i)];
    AuditFilter f;
    f.patientId = q.patient;
    f.action = q.action;
    f.fromMs = dayMs(q.from);
    f.toMs = dayMs(q.to) + kDayMs;
    return f;
  };
  auto measured = [&](auto make) { return [&, make](int64_t i) { return make(i + warmup); }; };

  {
    AuditFilter a = byPatient(0), b = byPatientActionTime(0);
    std::string whereA = "WHERE 1 = 1 AND patient_id = 'x'";
    std::string whereB =
        "WHERE 1 = 1 AND patient_id = 'x' AND action = 'y' AND time_ms >= " + std::to_string(b.fromMs) +
        " AND time_ms < " + std::to_string(b.toMs);
    summary["plans"]["patient"] = Plan(database, whereA);
    summary["plans"]["patient_action_time"] = Plan(database, whereB);
    summary["plans"]["action"] = Plan(database, "WHERE 1 = 1 AND action = 'y'");
    std::printf("query plans: patient: %s | patient+action+time: %s | action: %s\n",
                summary["plans"]["patient"].asCString(), summary["plans"]["patient_action_time"].asCString(),
                summary["plans"]["action"].asCString());
    (void)a;
  }

  TimeQueries(store, warmup, byPatient, false);
  TimeQueries(store, warmup, byPatientActionTime, false);
  Timed a = TimeQueries(store, options.queries, measured(byPatient), false);
  Timed aJson = TimeQueries(store, options.queries, measured(byPatient), true);
  Timed b = TimeQueries(store, options.queries, measured(byPatientActionTime), false);
  Print("A  Query{patient_id} limit 100", options.queries, a);
  Print("A+ Query{patient_id} limit 100 + JSON", options.queries, aJson);
  Print("B  Query{patient_id, action, from, to}", options.queries, b);

  // The hottest patient (index 0 is in the frequent group).
  int64_t hotCount = std::min<int64_t>(options.queries, 50);
  Timed hot = TimeQueries(
      store, hotCount,
      [&](int64_t) {
        AuditFilter f;
        f.patientId = PatientId(options.seed, 0);
        return f;
      },
      false);
  Print("A  frequent patient (PAT of index 0)", hotCount, hot);

  // Informative: what other pages of the API cost at this size.
  int64_t few = std::min<int64_t>(options.queries, 20);
  Timed byAction = TimeQueries(
      store, few,
      [&](int64_t i) {
        AuditFilter f;
        f.action = kQueryActions[i % 4];
        return f;
      },
      false);
  Timed unfiltered = TimeQueries(
      store, few, [](int64_t) { return AuditFilter{}; }, false);
  Print("C  Query{action} limit 100", few, byAction);
  Print("C  Query{} limit 100 (no filter)", few, unfiltered);

  Clock::time_point started = Clock::now();
  ChainVerdict verdict = store.Verify();
  double verifySeconds = Seconds(started);
  std::printf("AuditStore::Verify: ok=%s, %" PRId64 " events checked in %.2f s (%.0f events/s)\n",
              verdict.ok ? "true" : "false", verdict.checked, verifySeconds,
              verifySeconds > 0 ? static_cast<double>(verdict.checked) / verifySeconds : 0.0);

  summary["events"] = static_cast<Json::Int64>(events);
  summary["queries"]["patient"] = ToJson(options.queries, a);
  summary["queries"]["patient_json"] = ToJson(options.queries, aJson);
  summary["queries"]["patient_action_time"] = ToJson(options.queries, b);
  summary["queries"]["frequent_patient"] = ToJson(hotCount, hot);
  summary["queries"]["action_only"] = ToJson(few, byAction);
  summary["queries"]["no_filter"] = ToJson(few, unfiltered);
  summary["verify"]["ok"] = verdict.ok;
  summary["verify"]["checked"] = static_cast<Json::Int64>(verdict.checked);
  summary["verify"]["seconds"] = verifySeconds;
  Json::Value& replay = summary["replay"];
  replay = Json::Value(Json::arrayValue);
  for (const Query& q : queries) {
    Json::Value item(Json::objectValue);
    item["patient_id"] = q.patient;
    item["action"] = q.action;
    item["from"] = q.from;
    item["to"] = q.to;
    replay.append(item);
  }
  summary["replay_warmup"] = static_cast<Json::Int64>(warmup);
}
}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  Log::SetSink([](Log::Level level, const std::string& message) {
    if (level != Log::Level::kInfo) std::cerr << message << "\n";
  });
  try {
    Json::Value summary(Json::objectValue);
    summary["database"] = options.database;
    summary["seed"] = static_cast<Json::UInt64>(options.seed);
    summary["patients"] = static_cast<Json::Int64>(options.patients);
    if (Exists(options.database) && !options.reuse) {
      if (!options.overwrite) Usage(options.database + " exists: pass --overwrite or --reuse");
      for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        ::unlink((options.database + suffix).c_str());
    }
    if (!options.reuse) Populate(options, summary);
    Benchmark(options, summary);
    if (!options.summary.empty()) {
      std::ofstream out(options.summary);
      out << JsonText::Write(summary) << "\n";
      if (!out) throw std::runtime_error("cannot write " + options.summary);
    }
  } catch (const std::exception& e) {
    std::cerr << "hb-bench-audit-query: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
