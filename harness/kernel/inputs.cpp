#include "kernel/inputs.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/stat.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/patch_parse.h"
#include "kernel/tool.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& text) {
  auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// "linux-source-6.12" -> "6.12"; "" when the name carries no version.
std::string series_from_package(const std::string& package) {
  static const std::regex re(R"((\d+)\.(\d+))");
  std::smatch m;
  if (std::regex_search(package, m, re)) return m[1].str() + "." + m[2].str();
  return {};
}

long long mtime_ns(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

// Runs a query tool; returns {exit code, stdout}.
std::pair<int, std::string> query(const std::vector<std::string>& argv) {
  boost::asio::io_context io;
  auto r = run_tool(io, ToolRun{argv, {}, {}, {}}, true);
  return {r.exit_code, r.out};
}

fs::path resolve_fragment(const std::string& name, const KernelSpec& spec, const fs::path& images_dir) {
  const bool is_path = name.find('/') != std::string::npos || name.ends_with(".config");
  if (!is_path) return images_dir / "kernel" / (name + ".config");
  fs::path p(name);
  if (p.is_relative() && spec.where.known()) p = fs::path(spec.where.file).parent_path() / p;
  return fs::absolute(p).lexically_normal();
}

std::vector<std::string> list_names(const fs::path& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (suffix.empty() ? it->is_directory() : rel.ends_with(suffix)) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

fs::path default_images_dir() { return data_dir() / "images"; }

std::vector<fs::path> series_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".patch" && e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return out;
}

SourceIdentity debian_source_identity(const std::string& package) {
  auto [rc, out] = query({"dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", package});
  out = trim(out);
  const std::string prefix = "installed ";
  const fs::path tarball = fs::path("/usr/src") / (package + ".tar.xz");
  std::error_code ec;
  if (rc != 0 || !out.starts_with(prefix) || !fs::is_regular_file(tarball, ec)) {
    throw infra_error(fmt::format("{} is not installed: apt-get install {}", package, package));
  }
  SourceIdentity s;
  s.version = out.substr(prefix.size());
  s.tarball = tarball;
  s.id = fmt::format("debian-source {} {} size={} mtime={}", package, s.version, fs::file_size(tarball, ec),
                     mtime_ns(tarball));
  s.slug = sanitize_filename(package + "_" + s.version);
  s.series = series_from_package(package);
  return s;
}

SourceIdentity debian_image_identity(const std::string& package) {
  // apt-cache takes about a second here; remember its answer until the
  // package lists or the dpkg database change.
  const fs::path memo = cache_dir() / "kernels" / ("resolve-" + sanitize_filename(package) + ".json");
  const std::string stamp =
      fmt::format("{} {}", mtime_ns("/var/lib/apt/lists"), mtime_ns("/var/lib/dpkg/status"));
  std::string real, version;
  std::error_code ec;
  if (fs::exists(memo, ec)) {
    try {
      auto j = nlohmann::json::parse(read_file(memo));
      if (j.value("stamp", "") == stamp) {
        real = j.value("package", "");
        version = j.value("version", "");
      }
    } catch (const std::exception&) {
      real.clear();
    }
  }
  if (real.empty() || version.empty()) {
    auto [rc, out] = query({"apt-cache", "show", "--no-all-versions", package});
    if (rc != 0 || out.empty()) {
      throw infra_error(fmt::format("Debian package {} is unknown to apt", package), "apt-get update, or check the name");
    }
    static const std::regex dep_re(R"((?:^|[ ,])(linux-image-\d[^ ,(]*))");
    std::string pkg_version, depends;
    size_t start = 0;
    while (start < out.size()) {
      size_t nl = out.find('\n', start);
      if (nl == std::string::npos) nl = out.size();
      const std::string line = out.substr(start, nl - start);
      if (line.starts_with("Version: ")) pkg_version = line.substr(9);
      if (line.starts_with("Depends: ")) depends = line.substr(9);
      start = nl + 1;
    }
    std::smatch m;
    if (std::regex_match(package, std::regex(R"(linux-image-\d.*)"))) {
      real = package;
      version = pkg_version;
    } else if (std::regex_search(depends, m, dep_re)) {
      real = m[1];
      auto [rc2, pol] = query({"apt-cache", "policy", real});
      static const std::regex cand(R"(Candidate: (\S+))");
      std::smatch cm;
      if (rc2 == 0 && std::regex_search(pol, cm, cand) && cm[1] != "(none)") version = cm[1];
    }
    if (real.empty() || version.empty()) {
      throw infra_error(fmt::format("cannot resolve {} to a linux-image package with a version", package),
                        "apt-cache show " + package);
    }
    fs::create_directories(memo.parent_path(), ec);
    write_file_atomic(memo, nlohmann::json{{"stamp", stamp}, {"package", real}, {"version", version}}.dump());
  }
  SourceIdentity s;
  s.package = real;
  s.version = version;
  s.id = fmt::format("debian-image {} {}", real, version);
  s.slug = sanitize_filename(real + "_" + version);
  s.series = series_from_package(real);
  return s;
}

SourceIdentity tree_identity(const fs::path& tree) {
  SourceIdentity s;
  s.tree = fs::absolute(tree).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(s.tree / "Makefile", ec)) {
    throw usage_error(fmt::format("{} is not a kernel source tree (no Makefile)", s.tree.string()));
  }
  {
    // VERSION = 6 / PATCHLEVEL = 1 at the top of the Makefile.
    std::ifstream mk(s.tree / "Makefile");
    std::string line, major, minor;
    for (int i = 0; i < 20 && std::getline(mk, line); ++i) {
      if (line.starts_with("VERSION = ")) major = trim(line.substr(10));
      if (line.starts_with("PATCHLEVEL = ")) minor = trim(line.substr(13));
    }
    if (!major.empty() && !minor.empty()) s.series = major + "." + minor;
  }
  ContentHash h;
  h.add("tree.path", s.tree.string());
  if (fs::exists(s.tree / ".git", ec)) {
    const std::string head = trim(tool_output({"git", "-C", s.tree.string(), "rev-parse", "HEAD"}));
    h.add("git.head", head);
    h.add("git.diff", tool_output({"git", "-C", s.tree.string(), "diff", "HEAD", "--binary"}));
    const std::string untracked =
        tool_output({"git", "-C", s.tree.string(), "ls-files", "--others", "--exclude-standard", "-z"});
    size_t start = 0;
    while (start < untracked.size()) {
      size_t end = untracked.find('\0', start);
      if (end == std::string::npos) end = untracked.size();
      const std::string rel = untracked.substr(start, end - start);
      if (!rel.empty() && fs::is_regular_file(s.tree / rel, ec)) h.add_file("git.untracked:" + rel, s.tree / rel);
      start = end + 1;
    }
    s.version = "git " + head;
  } else {
    // No git: every file's path, size and mtime (a stat per file, no reads).
    std::vector<std::string> entries;
    for (fs::recursive_directory_iterator it(s.tree, fs::directory_options::none, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      entries.push_back(fmt::format("{} {} {}", fs::relative(it->path(), s.tree).string(), it->file_size(),
                                    mtime_ns(it->path())));
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) h.add("file", e);
    s.version = "";
  }
  const std::string digest = h.hex();
  s.id = "tree " + digest;
  s.slug = "tree-" + ContentHash().add("path", s.tree.string()).hex().substr(0, 16);
  return s;
}

std::string compiler_identity() {
  static const std::string id = [] {
    auto [rc, out] = query({"gcc", "--version"});
    if (rc != 0) throw infra_error("gcc --version failed", "apt-get install gcc");
    return trim(first_line(out));
  }();
  return id;
}

BuildInputs resolve_inputs(const KernelSpec& spec, const fs::path& images_dir) {
  BuildInputs in;
  in.spec = spec;
  const SourceLocation where = spec.where;
  switch (spec.kind) {
    case KernelSourceKind::kDebianSource: in.source = debian_source_identity(spec.package); break;
    case KernelSourceKind::kDebianImage: in.source = debian_image_identity(spec.package); return in;
    case KernelSourceKind::kTree: in.source = tree_identity(spec.path); break;
    case KernelSourceKind::kBzImage: return in;
  }
  const fs::path patch_root = images_dir / "patches";
  for (const auto& series : spec.patches) {
    const fs::path dir = (patch_root / series).lexically_normal();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      auto known = list_names(patch_root, "");
      throw usage_error(fmt::format("kernel {}: patch series '{}' not found ({} is not a folder)", spec.name, series,
                                    dir.string()),
                        known.empty() ? "" : "series there: " + fmt::format("{}", fmt::join(known, ", ")), where);
    }
    auto files = series_files(dir);
    if (files.empty()) {
      throw usage_error(fmt::format("kernel {}: patch series '{}' has no *.patch files in {}", spec.name, series,
                                    dir.string()), "", where);
    }
    for (const auto& f : files) in.patches.push_back({series + "/" + f.filename().string(), f, read_file(f)});
  }
  if (spec.amplifier) {
    // kernel_spec.h: the last series' amplifier, or the source's own.
    const std::string base = spec.patches.empty() ? in.source.series : spec.patches.back();
    in.amplifier_series = (patch_root / base / "amplifier").lexically_normal();
    auto files = series_files(in.amplifier_series);
    if (files.empty()) {
      throw usage_error(fmt::format("kernel {} asks for the amplifier but {} has no *.patch files", spec.name,
                                    in.amplifier_series.string()),
                        "add the series, or set amplifier = false", where);
    }
    for (const auto& f : files) in.amplifier.push_back({base + "/amplifier/" + f.filename().string(), f, read_file(f)});
  }
  auto fragments = spec.fragments.empty() ? std::vector<std::string>{"numasoak-guest"} : spec.fragments;
  if (spec.debug) fragments.push_back(kDebugFragment);  // kernel_spec.h: the debug fragment last
  // A work tree per configuration family: a fragment beyond the guest's own
  // ("numasoak-guest", "numasoak-guest-6.1") changes .config enough to
  // recompile everything, so builds with it (debug, outside) must not share
  // objects with the plain builds. "numasoak-debug" -> "<slug>-debug".
  for (const auto& name : fragments) {
    if (name.starts_with("numasoak-guest")) continue;
    const std::string tag = name.starts_with("numasoak-") ? name.substr(9) : name;
    in.source.slug += "-" + sanitize_filename(fs::path(tag).stem().string());
  }
  for (const auto& name : fragments) {
    const fs::path p = resolve_fragment(name, spec, images_dir);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      auto known = list_names(images_dir / "kernel", ".config");
      throw usage_error(fmt::format("kernel {}: config fragment '{}' not found ({})", spec.name, name, p.string()),
                        known.empty() ? "" : "fragments there: " + fmt::format("{}", fmt::join(known, ", ")), where);
    }
    in.fragments.push_back({p.filename().string(), p, read_file(p)});
  }
  if (std::find(fragments.begin(), fragments.end(), kOutsideFragment) != fragments.end()) {
    const fs::path dir = images_dir / "kmod" / "numasoak_widen";
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    if (files.empty()) {
      throw usage_error(fmt::format("kernel {}: {} asks for the widen module but {} has no files", spec.name,
                                    kOutsideFragment, dir.string()), "", where);
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) in.widen_module.push_back({"kmod/" + f.filename().string(), f, read_file(f)});
  }
  in.compiler = compiler_identity();
  return in;
}

std::string cache_key(const BuildInputs& in) {
  ContentHash h;
  h.add("recipe", std::to_string(in.recipe));
  h.add("source", in.source.id);
  if (in.spec.kind == KernelSourceKind::kDebianImage) return h.hex();
  for (const auto& p : in.patches) h.add("patch", p.bytes);
  h.add("amplifier", in.amplifier_series.empty() ? "off" : "on");
  for (const auto& p : in.amplifier) h.add("amplifier.patch", p.bytes);
  for (const auto& f : in.fragments) h.add("fragment", f.bytes);
  for (const auto& f : in.widen_module) h.add("widen_module." + f.label, f.bytes);
  h.add("compiler", in.compiler);
  return h.hex();
}

namespace {
bool affects_config(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return name.starts_with("Kconfig") || name.starts_with("Makefile") || name.ends_with(".config") ||
         path.starts_with("scripts/") || path.find("/configs/") != std::string::npos;
}
}  // namespace

std::string config_key(const BuildInputs& in) {
  ContentHash h;
  h.add("recipe", std::to_string(in.recipe));
  h.add("source", in.source.id);
  h.add("compiler", in.compiler);
  for (const auto& f : in.fragments) h.add("fragment", f.bytes);
  std::vector<InputFile> series = in.patches;
  series.insert(series.end(), in.amplifier.begin(), in.amplifier.end());
  for (const auto& p : series) {
    const auto files = touched_files(p.bytes);
    if (std::any_of(files.begin(), files.end(), affects_config)) h.add("patch", p.bytes);
  }
  return h.hex();
}

}  // namespace numasoak::kernel
