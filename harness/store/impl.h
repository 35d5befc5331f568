// Inside the Store (store/*.cpp only): its state, the SQL helpers the reads
// and writes share, and where each part lives: store.cpp opens and closes,
// schema.cpp creates and migrates, lock.cpp holds the campaign's lock,
// writes.cpp and reads.cpp are the two halves of the Store's API.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "store/sqlite.h"
#include "store/store.h"

namespace numasoak {

namespace store_detail {

// JSON as stored: invalid UTF-8 from the guest is replaced, not thrown on.
std::string dump(const nlohmann::json& j);
RunState state_from_string(const std::string& s);
CampaignStatus status_from_string(const std::string& s);
// The columns read_run_row() reads, "r." being the runs table.
extern const char* const kRunColumns;
RunRow read_run_row(const Stmt& s);
// The campaign's exclusive lock (lock.cpp): the fd that holds it.
int take_lock(const std::filesystem::path& dir);

}  // namespace store_detail

/// The Store's database, folder and lock.
struct Store::Impl {
  std::filesystem::path dir;
  store_detail::Db db;
  bool read_only = false;
  int lock_fd = -1;
  std::vector<std::string> recovered;
  int schema = kStoreSchemaVersion;  // an older one only when opened read-only


  ~Impl();                        // lock.cpp: closes the database, then drops the lock
  int schema_version();           // schema.cpp
  void check_not_newer(int version);
  void migrate();
  void recover_interrupted();     // a harness that died mid-run left rows `running`
  void require_writable() const;  // store.cpp
  int kernel_position(const std::string& name);
  void ensure_kernel(const std::string& name);
  void touch_campaign();
};

}  // namespace numasoak
