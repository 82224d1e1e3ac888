#pragma once
// A thin RAII layer over SQLite. One Database owns one connection; callers
// serialize through Lock() so that a store's read-modify-write stays atomic.
// WAL mode lets an external reader (backup, sqlite3 shell) work meanwhile.
#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace HospitalBridge {

class Statement;

class Database {
 public:
  // Opens (creating it and its folder if absent) the file; ":memory:" for
  // tests. Throws
  // DatabaseError with a message naming the path when it cannot be used.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& Path() const { return path_; }
  std::unique_lock<std::recursive_mutex> Lock() { return std::unique_lock<std::recursive_mutex>(mutex_); }

  void Execute(const std::string& sql);  // one or several statements, no results
  int64_t LastInsertRowId() const;
  int Changes() const;
  sqlite3* Handle() { return db_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;
};

class Statement {
 public:
  Statement(Database& database, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding is 1-based, like SQLite.
  Statement& Bind(int index, const std::string& value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string(value)); }
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& BindNull(int index);
  Statement& BindBlob(int index, const std::string& bytes);

  bool Step();  // true while a row is available
  void Run();   // steps to completion
  void Reset();

  std::string ColumnText(int column) const;  // 0-based
  std::string ColumnBlob(int column) const;
  int64_t ColumnInt(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  Database& database_;
  sqlite3_stmt* statement_ = nullptr;
};

// Commits on Commit(), rolls back when destroyed otherwise.
class Transaction {
 public:
  explicit Transaction(Database& database);
  ~Transaction();
  void Commit();

 private:
  Database& database_;
  bool done_ = false;
};

}  // namespace HospitalBridge
