#pragma once
// Brings the plugin's database to the schema this build expects, by applying
// the numbered SQL files of Resources/Migrations/ that it has not seen yet,
// each in its own transaction. A database written by a newer HospitalBridge
// stops the start with a StartupError: it is never changed or recreated,
// because it holds users, shares and audit records that cannot be rebuilt.
#include <map>
#include <string>

#include "Common/Storage.h"

namespace HospitalBridge {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations embedded in the plugin, by version.
std::map<int, Migration> EmbeddedMigrations();

// Returns the schema version after migrating. Throws StartupError.
int MigrateDatabase(IDatabase& database, const std::map<int, Migration>& migrations);

// The schema version of a migrated database (0 for an empty one).
int SchemaVersion(IDatabase& database);

}  // namespace HospitalBridge
