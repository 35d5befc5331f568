#include "kernel/worktree.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "kernel/patch_parse.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

namespace {

struct FileSnapshot {
  std::optional<std::string> bytes;  // nullopt: the file did not exist
  struct timespec mtime {};
};

FileSnapshot snapshot(const fs::path& p) {
  FileSnapshot s;
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    s.bytes = read_file(p);
    s.mtime = st.st_mtim;
  }
  return s;
}

void set_mtime(const fs::path& p, const struct timespec* when) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  if (when) {
    times[1] = *when;
  } else {
    times[1].tv_sec = 0;
    times[1].tv_nsec = UTIME_NOW;
  }
  if (::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    throw infra_error(fmt::format("cannot set the mtime of {}: {}", p.string(), std::strerror(errno)));
  }
}

void copy_over(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::remove(to, ec);  // a patch may have left a symlink or changed the mode
  if (!fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec)) {
    throw infra_error(fmt::format("cannot copy {} to {}: {}", from.string(), to.string(), ec.message()));
  }
}

}  // namespace

WorkTree::WorkTree(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", root_.string(), ec.message()));
}

WorkTree::Lock::Lock(const fs::path& file, const std::function<void()>& on_wait) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw infra_error(fmt::format("cannot open lock file {}: {}", file.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (on_wait) on_wait();
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const int err = errno;
      ::close(fd_);
      throw infra_error(fmt::format("cannot lock {}: {}", file.string(), std::strerror(err)));
    }
  }
}

WorkTree::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

WorkTree::State WorkTree::load() const {
  State s;
  const fs::path p = root_ / "state.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return s;
  try {
    auto j = nlohmann::json::parse(read_file(p));
    for (const auto& f : j.value("touched", nlohmann::json::array())) s.touched.insert(f.get<std::string>());
    for (const auto& f : j.value("absent", nlohmann::json::array())) s.absent.insert(f.get<std::string>());
    s.last_cc = j.value("last_cc", 0);
    s.synced = j.value("synced", "");
    s.notes = j.value("notes", std::map<std::string, std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw infra_error(fmt::format("{} is corrupt: {}", p.string(), e.what()),
                      "remove " + root_.string() + " to start over");
  }
  return s;
}

void WorkTree::save(const State& s) const {
  nlohmann::json j{{"touched", s.touched}, {"absent", s.absent}, {"last_cc", s.last_cc},
                   {"synced", s.synced}, {"notes", s.notes}};
  write_file_atomic(root_ / "state.json", j.dump(2) + "\n");
}

std::set<std::string> WorkTree::touched() const { return load().touched; }
int WorkTree::last_cc_count() const { return load().last_cc; }
void WorkTree::set_last_cc_count(int n) {
  State s = load();
  s.last_cc = n;
  save(s);
}
std::string WorkTree::note(const std::string& key) const {
  auto s = load();
  auto it = s.notes.find(key);
  return it == s.notes.end() ? std::string() : it->second;
}
void WorkTree::set_note(const std::string& key, const std::string& value) {
  State s = load();
  s.notes[key] = value;
  save(s);
}

bool WorkTree::ensure_unpacked(const fs::path& tarball, const Runner& run) {
  std::error_code ec;
  if (fs::is_directory(tree(), ec)) return false;
  const fs::path tmp = root_ / "tree.unpacking";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  const int rc = run(ToolRun{{"tar", "-xJf", tarball.string(), "--strip-components=1", "-C", tmp.string()}, root_, {}, {}});
  if (rc != 0) {
    fs::remove_all(tmp, ec);
    throw infra_error(fmt::format("cannot unpack {} (tar exit {})", tarball.string(), rc), "is the disk full?");
  }
  fs::rename(tmp, tree(), ec);
  if (ec) throw infra_error(fmt::format("cannot rename {} to {}: {}", tmp.string(), tree().string(), ec.message()));
  // A fresh tree: nothing patched, nothing saved.
  State s = load();
  s.touched.clear();
  s.absent.clear();
  fs::remove_all(root_ / "pristine", ec);
  save(s);
  return true;
}

void WorkTree::restore_pristine(const std::set<std::string>& files, const State& s) const {
  for (const auto& f : files) {
    const fs::path dst = tree() / f;
    const fs::path src = root_ / "pristine" / f;
    std::error_code ec;
    if (s.absent.count(f)) {
      fs::remove(dst, ec);
    } else if (fs::exists(src, ec)) {
      copy_over(src, dst);
    }
    // Neither: the file was never saved because no patch got to it; it is
    // still pristine.
  }
}

void WorkTree::apply_series(const std::vector<InputFile>& series, const Runner& run, const Notify& notify,
                            const fs::path& sync_from, const std::string& sync_id) {
  State s = load();
  std::set<std::string> now_touched;
  std::vector<std::string> patch_texts;
  for (const auto& p : series) {
    patch_texts.push_back(read_file(p.path));
    for (auto& f : touched_files(patch_texts.back())) {
      if (f.find("..") != std::string::npos || f.front() == '/') {
        throw usage_error(fmt::format("patch {} names a file outside the tree: {}", p.label, f));
      }
      now_touched.insert(f);
    }
  }
  std::set<std::string> all = s.touched;
  all.insert(now_touched.begin(), now_touched.end());

  // What the tree holds now, to decide afterwards which files changed.
  std::map<std::string, FileSnapshot> before;
  for (const auto& f : all) before[f] = snapshot(tree() / f);

  restore_pristine(s.touched, s);
  s.touched.clear();
  save(s);

  if (!sync_from.empty() && s.synced != sync_id) {
    if (notify) notify("copying " + sync_from.string());
    std::error_code ec;
    fs::create_directories(tree(), ec);
    const int rc = run(ToolRun{{"cp", "-a", "--", sync_from.string() + "/.", tree().string()}, root_, {}, {}});
    if (rc != 0) throw infra_error(fmt::format("cannot copy {} into {}", sync_from.string(), tree().string()));
    fs::remove_all(root_ / "pristine", ec);
    s.absent.clear();
    s.synced = sync_id;
    save(s);
  }

  // Save the pristine bytes of every file the new series touches.
  for (const auto& f : now_touched) {
    const fs::path saved = root_ / "pristine" / f;
    std::error_code ec;
    if (s.absent.count(f) || fs::exists(saved, ec)) continue;
    if (fs::is_regular_file(tree() / f, ec)) {
      copy_over(tree() / f, saved);
    } else {
      s.absent.insert(f);
    }
  }
  s.touched = now_touched;  // from here on, an interruption restores them next time
  save(s);

  auto fix_mtimes = [&] {
    for (const auto& f : all) {
      const fs::path p = tree() / f;
      FileSnapshot after = snapshot(p);
      if (!after.bytes) continue;
      const auto& b = before[f];
      set_mtime(p, (b.bytes && *b.bytes == *after.bytes) ? &b.mtime : nullptr);
    }
  };

  for (size_t i = 0; i < series.size(); ++i) {
    const auto& p = series[i];
    if (notify) notify("patching " + p.label);
    std::string output;
    ToolRun r{{"patch", "-p1", "--forward", "--batch", "--fuzz=0", "--no-backup-if-mismatch", "--reject-file=-", "-i",
               p.path.string()},
              tree(),
              {},
              [&output](std::string_view line, bool) {
                if (output.size() < 256 * 1024) output.append(line).append("\n");
              }};
    const int rc = run(r);
    if (rc != 0) {
      restore_pristine(all, s);
      s.touched.clear();
      save(s);
      fix_mtimes();
      std::string what = describe_patch_failure(output);
      if (what.empty()) what = fmt::format("patch exit {}", rc);
      throw infra_error(fmt::format("patch {} does not apply: {}", p.label, what),
                        "the work tree is back to pristine");
    }
  }
  fix_mtimes();
}

}  // namespace numasoak::kernel
