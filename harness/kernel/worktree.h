// The persistent work area of one kernel source, shared by all its variants
// so that a variant rebuilds only what its patches change:
//
//   cache_dir()/src/<slug>/
//     tree/        the source, patched in place by the variant built last
//     obj/         the object tree (make O=obj): reused across variants
//     pristine/    original bytes of every file a series has touched
//     state.json   files now differing from pristine, files no pristine has,
//                  the CC count of the last build, what tree/ was synced from
//     lock         flock: one build per source at a time
//
// Switching variants (apply_series) is the subtle part. Every file touched by
// the old or the new series is first restored to pristine, the new series is
// applied, and then each such file whose bytes differ from what the tree held
// before gets a fresh mtime, so make rebuilds exactly those. Restoring a
// file's old mtime would be wrong: its object was built from the patched
// bytes later than that mtime, and make would keep the stale object. A file
// whose bytes did not change keeps the mtime it had, which is exactly what
// its object was built against, so make leaves it alone.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel/inputs.h"
#include "kernel/tool.h"

namespace numasoak::kernel {

// Runs a tool for the work tree (the builder logs its output); returns the exit code.
using Runner = std::function<int(const ToolRun&)>;
// Reports "patching <file>" and such.
using Notify = std::function<void(const std::string& what)>;

/// The persistent work area of one kernel source: its tree, object tree, pristine copies, state and lock.
class WorkTree {
 public:
  explicit WorkTree(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path tree() const { return root_ / "tree"; }
  std::filesystem::path obj() const { return root_ / "obj"; }

  /// Holds the source's flock while alive. `on_wait` is called once if
  /// another process holds it.
  class Lock {
   public:
    Lock(const std::filesystem::path& file, const std::function<void()>& on_wait);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    int fd_ = -1;
  };

  // Debian source: unpacks the tarball into tree/ once (tar into a temporary
  // folder, then rename). Returns true when it unpacked.
  bool ensure_unpacked(const std::filesystem::path& tarball, const Runner& run);

  // Brings tree/ to pristine + `series` (patch files in application order,
  // each `patch -p1 --fuzz=0`: offsets are fine, fuzz is refused, since a
  // fuzzed hunk in mm/ could land in the wrong function).
  // `sync_from` (tree sources): when `sync_id` differs from the last sync,
  // copy that tree over tree/ (cp -a) after restoring, and start a new
  // pristine store. Throws a one-line Error naming the patch and file/hunk
  // when a patch does not apply; the tree is then left pristine.
  void apply_series(const std::vector<InputFile>& series, const Runner& run, const Notify& notify,
                    const std::filesystem::path& sync_from = {}, const std::string& sync_id = {});

  // Files now differing from pristine (relative to tree/).
  std::set<std::string> touched() const;

  // The number of `CC` lines of the last complete build, 0 if unknown.
  int last_cc_count() const;
  void set_last_cc_count(int n);

  // Free-form values kept in state.json (e.g. the tarball's sha256).
  std::string note(const std::string& key) const;
  void set_note(const std::string& key, const std::string& value);

 private:
  /// What state.json keeps: files differing from pristine, files with no pristine, last CC count, sync id, notes.
  struct State {
    std::set<std::string> touched;
    std::set<std::string> absent;  // files no pristine copy exists of (created by a patch)
    int last_cc = 0;
    std::string synced;
    std::map<std::string, std::string> notes;
  };
  State load() const;
  void save(const State& s) const;
  void restore_pristine(const std::set<std::string>& files, const State& s) const;

  std::filesystem::path root_;
};

}  // namespace numasoak::kernel
