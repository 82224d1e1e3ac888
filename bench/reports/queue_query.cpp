// hb-bench-reports-queue: fills a fresh HospitalBridge database with a
// year of reports through the real store (ReportStore::InsertIfAbsent, in
// batches) and times what GET /bridge/reports/queue does, in-process (no
// HTTP): the store's query and the answer's JSON.
//
//   hb-bench-reports-queue --database PATH --reports 100000 --queries 300
//       [--seed S] [--open-share 0.05] [--summary OUT.json]
//
// Population (seeded, the same on every run): reports queued one every
// ~5 minutes over 365 days ending 2026-11-23; the newest `open-share` of them
// (5 %: a hospital's backlog) still to be read, unread, claimed or drafted,
// the rest final (4 % of those amended). Priorities 5 % stat, 15 % urgent,
// 80 % routine; modalities CT, MR, CR, DX, US, MG; 3 sites; 20 radiologists;
// patients "P" + 6 digits (40 000 of them).
//
// Timed on a new connection opened like the plugin opens it, after a warm-up
// of min(queries, 50), each query with its JSON (Report::ToJson of each row
// and JsonText::Write, what the route adds):
//   open      the page's default: status open, limit 200 (what reading.html asks)
//   mine      open and assigned to one radiologist
//   overdue   open and past due
//   filtered  open, modality and priority
//   patient   a patient's reports, every status (GET /bridge/reports?patient_id=)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "../common/BenchSupport.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Migrations.h"
#include "Common/SqliteDatabase.h"
#include "Reports/ReportStore.h"

namespace {
using namespace HospitalBridge;
using namespace BenchSupport;

const int64_t kEnd = 1795392000LL;  // 2026-11-23T00:00:00Z
const int64_t kYear = 365LL * 86400;

struct Options {
  std::string database = "/tmp/hb-bench-reports.db";
  int64_t reports = 100000;
  int queries = 300;
  uint64_t seed = 14;
  double openShare = 0.05;
  std::string summary;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "hb-bench-reports-queue: " << why << "\n"
            << "usage: hb-bench-reports-queue [--database PATH] [--reports N] [--queries N] [--seed S]\n"
            << "                              [--open-share F] [--summary OUT.json]\n";
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage("missing value for " + arg);
    const std::string value = argv[++i];
    if (arg == "--database") {
      options.database = value;
    } else if (arg == "--reports") {
      options.reports = std::stoll(value);
    } else if (arg == "--queries") {
      options.queries = std::stoi(value);
    } else if (arg == "--seed") {
      options.seed = std::stoull(value);
    } else if (arg == "--open-share") {
      options.openShare = std::stod(value);
    } else if (arg == "--summary") {
      options.summary = value;
    } else {
      Usage("unknown option " + arg);
    }
  }
  if (options.reports < 1 || options.queries < 1) Usage("--reports and --queries must be positive");
  return options;
}

const char* const kModalities[] = {"CT", "MR", "CR", "DX", "US", "MG"};
const char* const kSites[] = {"HOS-001", "HOS-002", "HOS-003"};

std::string Radiologist(int64_t n) { return "dr.r" + std::to_string(n % 20); }

std::string PatientId(int64_t n) {
  char text[16];
  std::snprintf(text, sizeof(text), "P%06lld", static_cast<long long>(n % 40000));
  return text;
}

Report MakeReport(int64_t i, const Options& options, Random& random) {
  Report report;
  const int64_t queued = kEnd - kYear + i * kYear / options.reports;
  report.orthancId = "bench-" + std::to_string(i);
  report.studyUid = "2.25." + std::to_string(Mix(options.seed + static_cast<uint64_t>(i)) >> 2);
  report.accession = "A" + std::to_string(1000000 + i);
  report.patientId = PatientId(random.Below(40000));
  report.patientName = "PATIENT^" + report.patientId;
  report.patientBirthDate = "19" + std::to_string(40 + random.Below(60)) + "0101";
  report.patientSex = random.Below(2) != 0 ? "F" : "M";
  report.studyDate = "20261122";
  report.studyTime = "101500";
  report.description = "Bench study " + std::to_string(i);
  report.modalities = {random.Pick(kModalities)};
  report.site = random.Pick(kSites);
  const int64_t p = random.Below(100);
  report.priority = p < 5 ? "stat" : (p < 20 ? "urgent" : "routine");
  report.queuedAt = queued;
  const int64_t minutes = report.priority == "stat" ? 60 : (report.priority == "urgent" ? 240 : 1440);
  report.dueAt = queued + minutes * 60;
  report.updatedAt = queued;
  const bool open =
      i >= options.reports - static_cast<int64_t>(options.openShare * static_cast<double>(options.reports));
  if (open) {
    const int64_t s = random.Below(10);
    report.status =
        s < 6 ? ReportStatus::kUnread : (s < 8 ? ReportStatus::kInProgress : ReportStatus::kDraft);
    if (report.status != ReportStatus::kUnread) {
      report.assignedTo = Radiologist(random.Below(20));
      report.assignedAt = queued + 600;
      report.latestVersion = report.status == ReportStatus::kDraft ? 1 : 0;
    }
  } else {
    report.status = random.Below(100) < 4 ? ReportStatus::kAmended : ReportStatus::kFinal;
    report.assignedTo = Radiologist(random.Below(20));
    report.assignedAt = queued + 600;
    report.latestVersion = report.status == ReportStatus::kAmended ? 2 : 1;
    report.signedVersion = report.latestVersion;
    report.finalAt = queued + 3600;
    report.updatedAt = report.finalAt;
  }
  return report;
}

void Populate(SqliteDatabase& database, const Options& options) {
  ReportStore store(database);
  Random random(options.seed);
  const Clock::time_point started = Clock::now();
  const int64_t batch = 2000;
  for (int64_t first = 0; first < options.reports; first += batch) {
    InWrite(database, [&](Transaction& transaction) {
      for (int64_t i = first; i < std::min(options.reports, first + batch); i++) {
        Report report = MakeReport(i, options, random);
        store.InsertIfAbsent(transaction, report);
      }
    });
  }
  std::cerr << "populated " << options.reports << " reports in " << Seconds(started) << " s\n";
}

struct Query {
  std::string name;
  std::vector<QueueFilter> filters;  // one per timed run, cycled
};

std::vector<Query> Queries(const Options& options, int64_t now) {
  Random random(options.seed + 1);
  std::vector<Query> queries = {
      {"open", {}}, {"mine", {}}, {"overdue", {}}, {"filtered", {}}, {"patient", {}}};
  for (int i = 0; i < options.queries; i++) {
    QueueFilter open;
    open.now = now;
    open.limit = 200;
    queries[0].filters.push_back(open);
    QueueFilter mine = open;
    mine.assignedTo = Radiologist(random.Below(20));
    queries[1].filters.push_back(mine);
    QueueFilter overdue = open;
    overdue.overdueOnly = true;
    queries[2].filters.push_back(overdue);
    QueueFilter filtered = open;
    filtered.modality = random.Pick(kModalities);
    filtered.priority = random.Below(2) != 0 ? "stat" : "urgent";
    queries[3].filters.push_back(filtered);
    QueueFilter patient;
    patient.now = now;
    patient.status = "all";
    patient.patientId = PatientId(random.Below(40000));
    queries[4].filters.push_back(patient);
  }
  return queries;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  Log::SetSink([](Log::Level, const std::string&) {});
  ::unlink(options.database.c_str());
  ::unlink((options.database + "-wal").c_str());
  ::unlink((options.database + "-shm").c_str());
  {
    SqliteDatabase database(options.database);
    MigrateDatabase(database, EmbeddedMigrations());
    Populate(database, options);
  }
  SqliteDatabase database(options.database);
  MigrateDatabase(database, EmbeddedMigrations());
  ReportStore store(database);
  // "Now" a little after the newest report was queued: part of the backlog is overdue.
  const int64_t now = kEnd + 6 * 3600;
  Json::Value summary(Json::objectValue);
  summary["reports"] = static_cast<Json::Int64>(options.reports);
  summary["open"] = static_cast<Json::Int64>(store.CountOpen());
  summary["queries_each"] = options.queries;
  for (const Query& query : Queries(options, now)) {
    std::vector<double> times;
    int64_t rows = 0;
    int64_t total = 0;
    const int warmup = std::min(options.queries, 50);
    for (int i = 0; i < warmup + options.queries; i++) {
      const QueueFilter& filter = query.filters[static_cast<size_t>(i % options.queries)];
      const Clock::time_point started = Clock::now();
      QueuePage page = store.Queue(filter);
      Json::Value answer(Json::objectValue);
      answer["total"] = static_cast<Json::Int64>(page.total);
      answer["reports"] = Json::Value(Json::arrayValue);
      for (const Report& report : page.reports) answer["reports"].append(report.ToJson(filter.now));
      const std::string body = JsonText::Write(answer);
      const double ms = Millis(started);
      if (i >= warmup) {
        times.push_back(ms);
        rows += static_cast<int64_t>(page.reports.size());
        total += page.total;
      }
      if (body.empty()) return 1;
    }
    Json::Value entry = ToJson(Summarize(times));
    entry["rows_mean"] = static_cast<double>(rows) / options.queries;
    entry["total_mean"] = static_cast<double>(total) / options.queries;
    summary["queries"][query.name] = entry;
    std::printf("%-9s p50 %7.2f ms  p95 %7.2f ms  max %7.2f ms  rows %6.1f  total %9.1f\n",
                query.name.c_str(), entry["p50"].asDouble(), entry["p95"].asDouble(), entry["max"].asDouble(),
                entry["rows_mean"].asDouble(), entry["total_mean"].asDouble());
  }
  if (!options.summary.empty()) {
    std::ofstream out(options.summary);
    out << JsonText::Write(summary) << "\n";
  }
  return 0;
}
