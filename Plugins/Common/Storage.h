#pragma once
// The storage seam: how stores reach SQL, whatever the database behind it.
// Today one SQLite file (SqliteDatabase); several Orthanc nodes will share a
// PostgreSQL database behind the same interfaces. Modelled on
// orthanc-databases: a database hands out transactions, a transaction
// prepares statements, and what differs between SQL engines is said by a
// dialect, never spelled in a store.
//
// Every statement runs inside an explicit transaction, reads included: a
// transaction is the unit of atomicity and, on SQLite's single connection,
// of mutual exclusion. Transactions do not nest: a store method that needs
// another's work inside its own transaction calls the overload that takes
// the caller's Transaction. Write SQL that both engines accept: `?`
// placeholders in order (never `?1`), `INSERT ... ON CONFLICT DO NOTHING`
// rather than `INSERT OR IGNORE`, `RETURNING id` rather than "last insert
// id"; what cannot be common comes from the dialect.
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

namespace HospitalBridge {

// What differs between SQL engines.
class SqlDialect {
 public:
  virtual ~SqlDialect() = default;
  virtual const char* Name() const = 0;  // "sqlite", "postgresql"
  // A case-insensitive equality on `column` against one parameter.
  virtual std::string EqualsIgnoringCase(const std::string& column) const = 0;
  // The current time in Unix seconds, as an SQL expression.
  virtual std::string NowSeconds() const = 0;
  // `column` written so that the planner will not use its index for the
  // condition: for a filter known to match most rows, where the index of a
  // narrower condition must win (measured: 430 ms instead of 0.2 ms on a
  // million audit events, on SQLite without statistics).
  virtual std::string WithoutIndex(const std::string& column) const = 0;
  // An ORDER BY expression for the order rows were inserted in, for a table
  // that has no column for it.
  virtual std::string InsertionOrder() const = 0;
};

// One prepared statement of a transaction. Binding is 1-based, columns
// 0-based, as in SQLite.
class IStatement {
 public:
  virtual ~IStatement() = default;
  virtual void BindText(int index, const std::string& value) = 0;
  virtual void BindInteger(int index, int64_t value) = 0;
  virtual void BindBlob(int index, const std::string& bytes) = 0;
  virtual void BindNull(int index) = 0;
  virtual bool Step() = 0;  // true while a row is available
  virtual void Reset() = 0;
  virtual std::string ColumnText(int column) const = 0;
  virtual std::string ColumnBlob(int column) const = 0;
  virtual int64_t ColumnInteger(int column) const = 0;
  virtual bool ColumnIsNull(int column) const = 0;
};

class ITransaction {
 public:
  virtual ~ITransaction() = default;  // rolls back unless committed
  virtual std::unique_ptr<IStatement> Prepare(const std::string& sql) = 0;
  // One or several statements without results (a migration's script).
  virtual void Execute(const std::string& sql) = 0;
  // Rows changed by the last statement.
  virtual int64_t Changes() const = 0;
  virtual void Commit() = 0;
};

enum class TransactionMode { kRead, kWrite };

class IDatabase {
 public:
  virtual ~IDatabase() = default;
  // Blocks until the transaction may start (one writer at a time).
  virtual std::unique_ptr<ITransaction> Begin(TransactionMode mode) = 0;
  virtual const SqlDialect& Dialect() const = 0;
  // For messages: "the database /var/lib/orthanc/db/hospitalbridge.db".
  virtual std::string Describe() const = 0;
};

class Statement;

// A transaction of a store method: read or write, committed explicitly,
// rolled back when it goes out of scope otherwise (an exception).
class Transaction {
 public:
  Transaction(IDatabase& database, TransactionMode mode)
      : database_(database), transaction_(database.Begin(mode)) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void Execute(const std::string& sql) { transaction_->Execute(sql); }
  int64_t Changes() const { return transaction_->Changes(); }
  void Commit() { transaction_->Commit(); }
  const SqlDialect& Dialect() const { return database_.Dialect(); }
  ITransaction& Raw() { return *transaction_; }

 private:
  IDatabase& database_;
  std::unique_ptr<ITransaction> transaction_;
};

// A statement prepared in a transaction, with chainable binds.
class Statement {
 public:
  Statement(Transaction& transaction, const std::string& sql) : statement_(transaction.Raw().Prepare(sql)) {}

  Statement& Bind(int index, const std::string& value) {
    statement_->BindText(index, value);
    return *this;
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string(value)); }
  Statement& Bind(int index, int64_t value) {
    statement_->BindInteger(index, value);
    return *this;
  }
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& BindNull(int index) {
    statement_->BindNull(index);
    return *this;
  }
  Statement& BindBlob(int index, const std::string& bytes) {
    statement_->BindBlob(index, bytes);
    return *this;
  }

  bool Step() { return statement_->Step(); }
  void Run() {
    while (Step()) {
    }
  }
  void Reset() { statement_->Reset(); }

  std::string ColumnText(int column) const { return statement_->ColumnText(column); }
  std::string ColumnBlob(int column) const { return statement_->ColumnBlob(column); }
  int64_t ColumnInt(int column) const { return statement_->ColumnInteger(column); }
  bool ColumnIsNull(int column) const { return statement_->ColumnIsNull(column); }

 private:
  std::unique_ptr<IStatement> statement_;
};

// Runs `work(transaction)` in a transaction of its own: a read, or a write
// committed when `work` returns (rolled back if it throws). For store methods
// that exist both on their own and inside a caller's transaction.
template <typename Work>
auto InRead(IDatabase& database, Work&& work) {
  Transaction transaction(database, TransactionMode::kRead);
  return work(transaction);
}

template <typename Work>
auto InWrite(IDatabase& database, Work&& work) {
  Transaction transaction(database, TransactionMode::kWrite);
  if constexpr (std::is_void_v<decltype(work(transaction))>) {
    work(transaction);
    transaction.Commit();
  } else {
    auto result = work(transaction);
    transaction.Commit();
    return result;
  }
}

}  // namespace HospitalBridge
