#include "Common/SqliteDatabase.h"

#include <filesystem>
#include <system_error>

#include "Common/Errors.h"

namespace HospitalBridge {
namespace {
// Not the virtual Describe(): the constructor names the file before the
// object is complete.
std::string DescribeFile(const std::string& path) { return "the HospitalBridge database \"" + path + "\""; }

[[noreturn]] void Fail(sqlite3* db, const std::string& what, int code) {
  std::string message = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  throw DatabaseError(message, code);
}

// Transactions do not nest: a second one on the same thread would wait for
// the first forever. Caught here with a clear message instead.
thread_local int transactionsOnThisThread = 0;

class SqliteStatement : public IStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
    int code = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement_, nullptr);
    if (code != SQLITE_OK) Fail(db_, "cannot prepare SQL", code);
  }
  ~SqliteStatement() override { sqlite3_finalize(statement_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindText(int index, const std::string& value) override {
    Check(
        sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
  }
  void BindInteger(int index, int64_t value) override { Check(sqlite3_bind_int64(statement_, index, value)); }
  void BindBlob(int index, const std::string& bytes) override {
    Check(
        sqlite3_bind_blob(statement_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  }
  void BindNull(int index) override { Check(sqlite3_bind_null(statement_, index)); }
  bool Step() override {
    int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    Fail(db_, "SQL step failed", code);
  }
  void Reset() override {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::string ColumnText(int column) const override {
    const unsigned char* text = sqlite3_column_text(statement_, column);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }
  std::string ColumnBlob(int column) const override {
    const void* data = sqlite3_column_blob(statement_, column);
    if (data == nullptr) return "";
    return std::string(static_cast<const char*>(data),
                       static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }
  int64_t ColumnInteger(int column) const override { return sqlite3_column_int64(statement_, column); }
  bool ColumnIsNull(int column) const override {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }

 private:
  void Check(int code) {
    if (code != SQLITE_OK) Fail(db_, "cannot bind", code);
  }
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

void ExecuteOn(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    throw DatabaseError(message, code);
  }
}
}  // namespace

class SqliteTransaction : public ITransaction {
 public:
  SqliteTransaction(SqliteDatabase& database, TransactionMode mode) : database_(database) {
    if (transactionsOnThisThread > 0) {
      throw std::logic_error("a database transaction was begun inside another one on the same thread");
    }
    lock_ = std::unique_lock<std::mutex>(database_.mutex_);
    ExecuteOn(database_.db_, mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
    transactionsOnThisThread++;
  }
  ~SqliteTransaction() override {
    transactionsOnThisThread--;
    if (!committed_) {
      try {
        ExecuteOn(database_.db_, "ROLLBACK");
      } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
      }
    }
  }
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  std::unique_ptr<IStatement> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(database_.db_, sql);
  }
  void Execute(const std::string& sql) override { ExecuteOn(database_.db_, sql); }
  int64_t Changes() const override { return sqlite3_changes(database_.db_); }
  void Commit() override {
    ExecuteOn(database_.db_, "COMMIT");
    committed_ = true;
  }

 private:
  SqliteDatabase& database_;
  std::unique_lock<std::mutex> lock_;
  bool committed_ = false;
};

SqliteDatabase::SqliteDatabase(const std::string& path) : path_(path) {
  // Orthanc loads plugins before it creates its own folders, so on a first
  // start the folder next to Orthanc's index may not exist yet.
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ignored;
  if (path != ":memory:" && !parent.empty()) std::filesystem::create_directories(parent, ignored);
  int code = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (code != SQLITE_OK) {
    std::string message = "cannot open " + DescribeFile(path_) + ": " +
                          (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
    sqlite3_close(db_);
    db_ = nullptr;
    throw StartupError(message);
  }
  sqlite3_busy_timeout(db_, 5000);
  sqlite3_extended_result_codes(db_, 1);
  try {
    // The first read of the file is where SQLite notices that it is not a
    // database or that its header is damaged.
    std::string integrity = "ok";
    {
      SqliteStatement probe(db_, "SELECT count(*) FROM sqlite_master");
      probe.Step();
      SqliteStatement check(db_, "PRAGMA quick_check(1)");
      if (check.Step()) integrity = check.ColumnText(0);
    }
    if (integrity != "ok") {
      throw StartupError(DescribeFile(path_) + " is damaged (" + integrity +
                         "). It was left untouched: restore it from a backup.");
    }
    ExecuteOn(db_, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;");
  } catch (const DatabaseError& e) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StartupError(DescribeFile(path_) + " cannot be used: " + e.what() +
                       ". It was left untouched: restore it from a backup, or move it away to start afresh.");
  }
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close_v2(db_); }

std::unique_ptr<ITransaction> SqliteDatabase::Begin(TransactionMode mode) {
  return std::make_unique<SqliteTransaction>(*this, mode);
}

std::string SqliteDatabase::Describe() const { return DescribeFile(path_); }

void SqliteDatabase::Pragma(const std::string& pragmas) {
  std::lock_guard<std::mutex> lock(mutex_);
  ExecuteOn(db_, pragmas);
}

void SqliteDatabase::BackupTo(const std::string& target) {
  sqlite3* destination = nullptr;
  int code = sqlite3_open(target.c_str(), &destination);
  if (code != SQLITE_OK) {
    sqlite3_close(destination);
    throw DatabaseError("cannot create the backup " + target, code);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3_backup* backup = sqlite3_backup_init(destination, "main", db_, "main");
  if (backup == nullptr) {
    const std::string why = sqlite3_errmsg(destination);
    sqlite3_close(destination);
    throw DatabaseError("cannot back up to " + target + ": " + why, SQLITE_ERROR);
  }
  code = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  sqlite3_close(destination);
  if (code != SQLITE_DONE) throw DatabaseError("the backup to " + target + " failed", code);
}

}  // namespace HospitalBridge
