#pragma once
// The storage seam (Common/Storage.h) over one SQLite file: the only code
// that sees SQLite itself. One connection in WAL mode (an outside reader, a
// backup or the sqlite3 shell, works meanwhile); transactions take turns on
// it, writers with BEGIN IMMEDIATE so that a write never fails half-way for
// lack of the lock. The trade-off is no parallel reads inside the plugin,
// which at a hospital site's volumes costs microseconds, not throughput.
#include <sqlite3.h>

#include <mutex>
#include <string>

#include "Common/Storage.h"

namespace HospitalBridge {

class SqliteDialect : public SqlDialect {
 public:
  const char* Name() const override { return "sqlite"; }
  std::string EqualsIgnoringCase(const std::string& column) const override {
    return column + " = ? COLLATE NOCASE";
  }
  std::string NowSeconds() const override { return "CAST(strftime('%s', 'now') AS INTEGER)"; }
  std::string WithoutIndex(const std::string& column) const override { return "+" + column; }
  std::string InsertionOrder() const override { return "rowid"; }
};

class SqliteDatabase : public IDatabase {
 public:
  // Opens (creating it and its folder if absent) the file; ":memory:" for
  // tests. Throws StartupError, naming the path, when the file cannot be
  // opened, is not a database or is damaged: it is then left untouched.
  explicit SqliteDatabase(const std::string& path);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  std::unique_ptr<ITransaction> Begin(TransactionMode mode) override;
  const SqlDialect& Dialect() const override { return dialect_; }
  std::string Describe() const override;
  const std::string& Path() const { return path_; }

  // PRAGMAs of this connection (bulk-load settings of the benchmark tools):
  // they cannot run inside a transaction.
  void Pragma(const std::string& pragmas);

  // For the online backup (hospitalbridge-admin backup): copies the whole
  // database, consistently, to `target` while the plugin keeps running.
  void BackupTo(const std::string& target);

 private:
  friend class SqliteTransaction;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;  // one transaction at a time on the connection
  SqliteDialect dialect_;
};

}  // namespace HospitalBridge
