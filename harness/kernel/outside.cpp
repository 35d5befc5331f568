#include "kernel/outside.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/tool.h"
#include "kernel/worktree.h"

namespace fs = std::filesystem;

namespace numasoak::kernel {

namespace {

int run_quiet(const std::vector<std::string>& argv, const fs::path& cwd, std::string* tail) {
  boost::asio::io_context io;
  ToolRun r{argv, cwd, {}, [tail](std::string_view line, bool) {
              if (!tail) return;
              *tail = std::string(line.substr(0, 300));
            }};
  return run_tool(io, r).exit_code;
}

}  // namespace

void prepare_debian_outside(const KernelArtifact& a, const fs::path& images_dir,
                            const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const std::string release = a.release;
  if (a.dir.empty() || release.empty()) {
    throw usage_error(fmt::format("kernel {}: not a Debian image artifact (no folder or release)", a.name));
  }
  std::error_code ec;
  // Serialize with any other numasoak preparing the same artifact.
  WorkTree::Lock lock(a.dir / "outside.lock", [&] { say("waiting for another numasoak preparing " + a.name); });
  const fs::path vmlinux = a.dir / "vmlinux";
  if (!fs::is_regular_file(vmlinux, ec)) {
    const std::string pkg = fmt::format("linux-image-{}-dbg", release);
    const fs::path dl = a.dir / ".dbg-download";
    fs::remove_all(dl, ec);
    fs::create_directories(dl);
    fs::permissions(dl, fs::perms::all, fs::perm_options::replace);  // apt's _apt user writes here
    say(fmt::format("{}: downloading {} (its vmlinux has the DWARF the window locator reads; ~860 MB)", a.name, pkg));
    std::string tail;
    if (run_quiet({"apt-get", "download", pkg}, dl, &tail) != 0) {
      fs::remove_all(dl, ec);
      throw infra_error(fmt::format("kernel {}: apt-get download {} failed: {}", a.name, pkg, tail),
                        "apt-get update, or give a vmlinux with DWARF as " + vmlinux.string());
    }
    fs::path deb;
    for (const auto& e : fs::directory_iterator(dl, ec))
      if (e.path().extension() == ".deb") deb = e.path();
    const std::string member = fmt::format("./usr/lib/debug/boot/vmlinux-{}", release);
    say(fmt::format("{}: extracting {} from {}", a.name, member, deb.filename().string()));
    // ar gives the data archive; tar picks the one file out of it (no shell, no pipe).
    if (deb.empty() || run_quiet({"ar", "x", deb.string()}, dl, &tail) != 0) {
      fs::remove_all(dl, ec);
      throw infra_error(fmt::format("kernel {}: cannot unpack {} ({})", a.name, pkg, tail));
    }
    fs::path data;
    for (const auto& e : fs::directory_iterator(dl, ec))
      if (e.path().filename().string().starts_with("data.tar")) data = e.path();
    if (data.empty() || run_quiet({"tar", "-xf", data.string(), member}, dl, &tail) != 0 ||
        !fs::is_regular_file(dl / member, ec)) {
      fs::remove_all(dl, ec);
      throw infra_error(fmt::format("kernel {}: {} holds no {}", a.name, pkg, member));
    }
    fs::rename(dl / member, vmlinux);
    fs::remove_all(dl, ec);
  }
  const fs::path ko = a.dir / "numasoak_widen.ko";
  // Built from exactly this source: a changed module is built again.
  const fs::path src = images_dir / "kmod" / "numasoak_widen";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(src, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ContentHash h;
  for (const auto& f : files) h.add(f.filename().string(), read_file(f));
  const std::string src_key = h.hex();
  const fs::path stamp = a.dir / "numasoak_widen.src";
  const bool current = fs::is_regular_file(ko, ec) && fs::is_regular_file(stamp, ec) && read_file(stamp) == src_key;
  if (!current) {
    const fs::path headers = fs::path("/usr/src") / ("linux-headers-" + release);
    if (!fs::is_directory(headers, ec)) {
      throw usage_error(fmt::format("kernel {}: no headers to build the widen module against ({} is missing)", a.name,
                                    headers.string()),
                        fmt::format("apt-get install linux-headers-{}", release));
    }
    const fs::path work = a.dir / ".kmod";
    fs::remove_all(work, ec);
    fs::create_directories(work);
    for (const auto& e : fs::directory_iterator(src, ec))
      if (e.is_regular_file()) fs::copy_file(e.path(), work / e.path().filename());
    say(fmt::format("{}: building numasoak_widen.ko against {}", a.name, headers.string()));
    std::string tail;
    if (run_quiet({"make", "-C", headers.string(), "M=" + work.string(), "modules"}, {}, &tail) != 0 ||
        !fs::is_regular_file(work / "numasoak_widen.ko", ec)) {
      throw infra_error(fmt::format("kernel {}: the widen module did not build against {}: {}", a.name,
                                    headers.string(), tail));
    }
    fs::copy_file(work / "numasoak_widen.ko", ko.string() + ".tmp", fs::copy_options::overwrite_existing);
    fs::rename(ko.string() + ".tmp", ko);
    write_file_atomic(stamp, src_key);
    fs::remove_all(work, ec);
  }
}

}  // namespace numasoak::kernel
