// Thin RAII over the SQLite C API for the store: a connection, prepared
// statements and transactions. Every failure becomes a numasoak::Error of
// kind infrastructure that names the database file, with a hint chosen from
// the SQLite result code (disk full, read-only, damaged file...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace numasoak::store_detail {

/// An open SQLite database (closed on destruction).
class Db {
 public:
  Db() = default;
  Db(const std::string& path, bool read_only);
  Db(Db&& o) noexcept;
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements with no results.
  void exec(std::string_view sql);
  // Throws the Error for SQLite result code `rc` with `what` as context.
  [[noreturn]] void fail(int rc, std::string_view what) const;
  int changes() const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// A prepared statement: bind, step, read columns.
class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds are 1-based, chained.
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::optional<double> v);
  Stmt& bind_null(int i);

  // Steps once: true when a row is available, false when done.
  bool step();
  // Steps to completion (statements without rows).
  void run();

  std::string text(int col) const;
  std::int64_t integer(int col) const;
  double real(int col) const;
  std::optional<double> opt_real(int col) const;
  bool is_null(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* st_ = nullptr;
  std::string sql_;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back if destroyed without commit().
class Transaction {
 public:
  explicit Transaction(Db& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace numasoak::store_detail
