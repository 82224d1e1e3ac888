#pragma once
// Brings the plugin's database to the schema this build expects, by applying
// the numbered SQL files of Resources/Migrations/ that it has not seen yet.
// A file that is not a database, is damaged, or was written by a newer
// HospitalBridge stops the start with a StartupError: it is never recreated,
// because it holds users, shares and audit records that cannot be rebuilt.
#include <map>
#include <string>

#include "Common/Database.h"

namespace HospitalBridge {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// The migrations embedded in the plugin, by version.
std::map<int, Migration> EmbeddedMigrations();

// Returns the schema version after migrating. Throws StartupError.
int MigrateDatabase(Database& database, const std::map<int, Migration>& migrations);

int SchemaVersion(Database& database);

}  // namespace HospitalBridge
