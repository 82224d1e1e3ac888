#include "Common/Migrations.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "Common/EmbeddedResources.h"
#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kPrefix[] = "Resources/Migrations/";

const char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at INTEGER NOT NULL)";
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

int SchemaVersion(IDatabase& database) {
  Transaction transaction(database, TransactionMode::kWrite);
  transaction.Execute(kCreateTable);
  Statement max(transaction, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  max.Step();
  const int version = static_cast<int>(max.ColumnInt(0));
  transaction.Commit();
  return version;
}

int MigrateDatabase(IDatabase& database, const std::map<int, Migration>& migrations) {
  const int latest = migrations.empty() ? 0 : migrations.rbegin()->first;
  int current = 0;
  try {
    current = SchemaVersion(database);
  } catch (const DatabaseError& e) {
    throw StartupError(database.Describe() + " cannot be used: " + e.what() +
                       ". It was left untouched: restore it from a backup, or move it away to start afresh.");
  }
  if (current > latest) {
    throw StartupError(
        database.Describe() + " has schema version " + std::to_string(current) +
        ", newer than this plugin knows (" + std::to_string(latest) +
        "): it was written by a newer HospitalBridge. Install that version or restore a backup.");
  }
  // Every migration not applied yet, in order, gaps included: modules are
  // built on branches, so a lower number (007) may land after a higher one
  // (010) has been applied; it must not be skipped.
  std::set<int> applied;
  {
    Transaction transaction(database, TransactionMode::kRead);
    Statement versions(transaction, "SELECT version FROM schema_migrations");
    while (versions.Step()) applied.insert(static_cast<int>(versions.ColumnInt(0)));
  }
  for (const auto& [version, migration] : migrations) {
    if (applied.count(version) != 0) continue;
    try {
      Transaction transaction(database, TransactionMode::kWrite);
      transaction.Execute(migration.sql);
      Statement record(transaction,
                       "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
      record.Bind(1, version).Bind(2, migration.name).Bind(3, Time::NowSeconds()).Run();
      transaction.Commit();
      Log::Info("database migrated to schema version " + std::to_string(version) + " (" + migration.name +
                ")");
    } catch (const DatabaseError& e) {
      throw StartupError("cannot apply migration " + migration.name + " to " + database.Describe() + ": " +
                         e.what());
    }
    current = std::max(current, version);
  }
  return current;
}

}  // namespace HospitalBridge
