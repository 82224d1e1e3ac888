#include "Common/Migrations.h"

#include <cstring>

#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kPrefix[] = "Resources/Migrations/";

std::string Describe(Database& database) { return "the HospitalBridge database \"" + database.Path() + "\""; }
}  // namespace

std::map<int, Migration> EmbeddedMigrations() {
  std::map<int, Migration> migrations;
  size_t count = 0;
  const EmbeddedFile* files = EmbeddedFiles(count);
  for (size_t i = 0; i < count; i++) {
    std::string path = files[i].path;
    if (path.rfind(kPrefix, 0) != 0) continue;
    std::string name = path.substr(strlen(kPrefix));
    int version = std::stoi(name.substr(0, name.find('_')));
    migrations[version] =
        Migration{version, name, std::string(reinterpret_cast<const char*>(files[i].data), files[i].size)};
  }
  return migrations;
}

int SchemaVersion(Database& database) {
  auto lock = database.Lock();
  Statement exists(database,
                   "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'");
  exists.Step();
  if (exists.ColumnInt(0) == 0) return 0;
  Statement max(database, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  max.Step();
  return static_cast<int>(max.ColumnInt(0));
}

int MigrateDatabase(Database& database, const std::map<int, Migration>& migrations) {
  auto lock = database.Lock();
  int latest = migrations.empty() ? 0 : migrations.rbegin()->first;
  int current = 0;
  try {
    // The first read of the file is where SQLite notices that it is not a
    // database or that its header is damaged.
    std::string integrity;
    {
      Statement probe(database, "SELECT count(*) FROM sqlite_master");
      probe.Step();
      Statement check(database, "PRAGMA quick_check(1)");
      integrity = check.Step() ? check.ColumnText(0) : "ok";
    }
    if (integrity != "ok") {
      throw StartupError(Describe(database) + " is damaged (" + integrity +
                         "). It was left untouched: restore it from a backup.");
    }
    database.Execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
    database.Execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at INTEGER NOT NULL)");
    current = SchemaVersion(database);
  } catch (const DatabaseError& e) {
    throw StartupError(Describe(database) + " cannot be used: " + e.what() +
                       ". It was left untouched: restore it from a backup, or move it away to start afresh.");
  }

  if (current > latest) {
    throw StartupError(
        Describe(database) + " has schema version " + std::to_string(current) +
        ", newer than this plugin knows (" + std::to_string(latest) +
        "): it was written by a newer HospitalBridge. Install that version or restore a backup.");
  }

  for (const auto& [version, migration] : migrations) {
    if (version <= current) continue;
    try {
      Transaction transaction(database);
      database.Execute(migration.sql);
      Statement record(database,
                       "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
      record.Bind(1, version).Bind(2, migration.name).Bind(3, Time::NowSeconds()).Run();
      transaction.Commit();
      Log::Info("database migrated to schema version " + std::to_string(version) + " (" + migration.name +
                ")");
    } catch (const DatabaseError& e) {
      throw StartupError("cannot apply migration " + migration.name + " to " + Describe(database) + ": " +
                         e.what());
    }
    current = version;
  }
  return current;
}

}  // namespace HospitalBridge
