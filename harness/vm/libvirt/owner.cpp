#include "vm/libvirt/owner.h"

#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <unistd.h>

#include "common/hash.h"

namespace numasoak::vm::libvirt {

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& registry() {
  static std::set<std::string> ids;
  return ids;
}

}  // namespace

std::string process_start_time(long pid) {
  const std::string stat = read_first_line(fmt::format("/proc/{}/stat", pid));
  // Field 2 (comm) may hold spaces and parentheses: count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  // After ')' come fields 3.. ; starttime is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return "";
  }
  return field;
}

bool process_alive(long pid, const std::string& start) {
  if (pid <= 0) return false;
  const std::string now = process_start_time(pid);
  return !now.empty() && now == start;
}

OwnerTag self_owner(const std::string& uri, const std::string& instance) {
  static const std::string start = process_start_time(::getpid());
  static const std::string boot = read_first_line("/proc/sys/kernel/random/boot_id");
  static const std::string host = hostname();
  OwnerTag t;
  t.pid = ::getpid();
  t.start = start;
  t.host = host;
  t.boot_id = boot;
  t.uri = uri;
  t.instance = instance;
  return t;
}

std::string new_instance_id() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> d(0, 0xffff);
  return fmt::format("{:04x}{:04x}{:04x}", d(rd), d(rd), d(rd));
}

void register_instance(const std::string& id) {
  std::lock_guard lock(registry_mutex());
  registry().insert(id);
}

void unregister_instance(const std::string& id) {
  std::lock_guard lock(registry_mutex());
  registry().erase(id);
}

bool instance_live(const std::string& id) {
  std::lock_guard lock(registry_mutex());
  return registry().count(id) > 0;
}

std::optional<std::string> orphan_reason(const OwnerTag& tag, const OwnerTag& me, const OwnerFacts& facts) {
  // Another machine's harness: nothing here can tell whether it still runs.
  if (tag.host != me.host) return std::nullopt;
  if (tag.boot_id != me.boot_id) return fmt::format("its numasoak (pid {}) ran before this machine last booted", tag.pid);
  const bool same_process = tag.pid == me.pid && tag.start == me.start;
  if (!same_process) {
    if (facts.owner_process_alive) return std::nullopt;
    return fmt::format("its numasoak process {} no longer exists", tag.pid);
  }
  if (!facts.instance_live) return "the connection of this numasoak that started it is closed";
  if (tag.instance == me.instance && !facts.tracked_here) {
    return "this connection lost track of it (the host went away and came back)";
  }
  return std::nullopt;
}

std::string machine_tag() {
  static const std::string tag = [] {
    ContentHash h;
    h.add("host", hostname());
    h.add("boot", read_first_line("/proc/sys/kernel/random/boot_id"));
    return h.hex().substr(0, 12);
  }();
  return tag;
}

}  // namespace numasoak::vm::libvirt
