#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "Common/Errors.h"
#include "TestSupport.h"

using namespace HospitalBridge;

namespace {
std::string TempPath(const std::string& name) {
  std::string path = testing::TempDir() + "hb-" + name + "-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}
}  // namespace

TEST(Migrations, FreshDatabaseGetsEveryMigration) {
  auto database = MigratedMemoryDatabase();
  EXPECT_EQ(EmbeddedMigrations().rbegin()->first, SchemaVersion(*database));
  Transaction transaction(*database, TransactionMode::kRead);
  Statement tables(transaction,
                   "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                   "('studies','study_modalities','users','sessions','plugin_state')");
  tables.Step();
  EXPECT_EQ(5, tables.ColumnInt(0));
}

TEST(Migrations, RunningTwiceChangesNothing) {
  std::string path = TempPath("twice");
  {
    SqliteDatabase database(path);
    MigrateDatabase(database, EmbeddedMigrations());
    ExecuteSql(database, "INSERT INTO plugin_state (key, value) VALUES ('kept', 'yes')");
  }
  SqliteDatabase database(path);
  EXPECT_EQ(EmbeddedMigrations().rbegin()->first, MigrateDatabase(database, EmbeddedMigrations()));
  Transaction transaction(database, TransactionMode::kRead);
  Statement kept(transaction, "SELECT value FROM plugin_state WHERE key = 'kept'");
  ASSERT_TRUE(kept.Step());
  EXPECT_EQ("yes", kept.ColumnText(0));
  Statement mode(transaction, "PRAGMA journal_mode");
  mode.Step();
  EXPECT_EQ("wal", mode.ColumnText(0));
}

TEST(Migrations, LaterMigrationIsAppliedOnTopOfEarlierOnes) {
  auto migrations = EmbeddedMigrations();
  auto database = std::make_unique<SqliteDatabase>(":memory:");
  MigrateDatabase(*database, migrations);
  migrations[99] = Migration{99, "099_test.sql", "CREATE TABLE later (x INTEGER);"};
  EXPECT_EQ(99, MigrateDatabase(*database, migrations));
}

TEST(Migrations, LowerNumberLandingAfterAHigherOneIsStillApplied) {
  // Branches land in any order: 010 applied first, 007 arriving later.
  auto migrations = EmbeddedMigrations();
  auto database = std::make_unique<SqliteDatabase>(":memory:");
  MigrateDatabase(*database, migrations);
  const int latest = migrations.rbegin()->first;
  migrations[latest + 2] = Migration{latest + 2, "high.sql", "CREATE TABLE high (x INTEGER);"};
  EXPECT_EQ(latest + 2, MigrateDatabase(*database, migrations));
  migrations[latest + 1] = Migration{latest + 1, "low.sql", "CREATE TABLE low (x INTEGER);"};
  EXPECT_EQ(latest + 2, MigrateDatabase(*database, migrations));
  Transaction transaction(*database, TransactionMode::kRead);
  Statement low(transaction, "SELECT count(*) FROM sqlite_master WHERE name = 'low'");
  low.Step();
  EXPECT_EQ(1, low.ColumnInt(0)) << "the lower-numbered migration was skipped";
  Statement recorded(transaction, "SELECT count(*) FROM schema_migrations WHERE version = ?");
  recorded.Bind(1, static_cast<int64_t>(latest + 1));
  recorded.Step();
  EXPECT_EQ(1, recorded.ColumnInt(0));
}

TEST(Migrations, FailedMigrationLeavesThePreviousSchema) {
  auto migrations = EmbeddedMigrations();
  auto database = std::make_unique<SqliteDatabase>(":memory:");
  MigrateDatabase(*database, migrations);
  const int latest = migrations.rbegin()->first;
  migrations[latest + 1] =
      Migration{latest + 1, "broken.sql", "CREATE TABLE fine (x INTEGER); THIS IS NOT SQL;"};
  EXPECT_THROW(MigrateDatabase(*database, migrations), StartupError);
  EXPECT_EQ(latest, SchemaVersion(*database));
  Transaction transaction(*database, TransactionMode::kRead);
  Statement fine(transaction, "SELECT count(*) FROM sqlite_master WHERE name = 'fine'");
  fine.Step();
  EXPECT_EQ(0, fine.ColumnInt(0)) << "a failed migration is rolled back whole";
}

TEST(Migrations, NewerDatabaseIsRefused) {
  auto database = MigratedMemoryDatabase();
  ExecuteSql(*database,
             "INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, '042_future.sql', 0)");
  try {
    MigrateDatabase(*database, EmbeddedMigrations());
    FAIL() << "a newer schema must stop the start";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find("schema version 42")) << e.what();
  }
}

TEST(Migrations, FileThatIsNotADatabaseIsRefusedAndLeftUntouched) {
  std::string path = TempPath("garbage");
  const std::string garbage(4096, 'x');
  {
    std::ofstream file(path, std::ios::binary);
    file << garbage;
  }
  try {
    SqliteDatabase database(path);
    MigrateDatabase(database, EmbeddedMigrations());
    FAIL() << "garbage must stop the start";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string::npos, std::string(e.what()).find(path)) << e.what();
    EXPECT_NE(std::string::npos, std::string(e.what()).find("left untouched")) << e.what();
  }
  EXPECT_EQ(garbage, ReadFile(path));
  std::remove(path.c_str());
}
