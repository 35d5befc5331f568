#include "kernel/build.h"

#include "common/clock.h"

#include <chrono>
#include <csignal>
#include <ctime>
#include <deque>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/bzimage.h"
#include "kernel/inputs.h"
#include "kernel/kconfig.h"
#include "kernel/tool.h"
#include "kernel/worktree.h"

namespace numasoak {

namespace fs = std::filesystem;
using namespace numasoak::kernel;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* to_string(BuildPhase p) {
  switch (p) {
    case BuildPhase::kResolving: return "resolving";
    case BuildPhase::kWaiting: return "waiting";
    case BuildPhase::kDownloading: return "downloading";
    case BuildPhase::kUnpacking: return "unpacking";
    case BuildPhase::kPatching: return "patching";
    case BuildPhase::kConfiguring: return "configuring";
    case BuildPhase::kCompiling: return "compiling";
    case BuildPhase::kLinking: return "linking";
    case BuildPhase::kPublishing: return "publishing";
    case BuildPhase::kDone: return "done";
  }
  return "?";
}

namespace {

Duration since(Clock::time_point t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }

bool ccache_available() {
  static const bool yes = [] {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
      if (::access((fs::path(dir) / "ccache").c_str(), X_OK) == 0) return true;
    }
    return false;
  }();
  return yes;
}

int default_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Reports progress if anyone listens.
struct Reporter {
  const BuildOptions& options;
  void operator()(BuildPhase phase, std::string detail = {}, int done = 0, int total = 0) const {
    if (options.progress) options.progress(BuildProgress{phase, std::move(detail), done, total});
  }
};

// build.log: every command and every line of its output.
class BuildLog {
 public:
  explicit BuildLog(const fs::path& path) : path_(path), out_(path, std::ios::app) {
    if (!out_) throw infra_error(fmt::format("cannot write {}", path.string()));
  }
  const fs::path& path() const { return path_; }
  void note(const std::string& text) { out_ << "# " << text << "\n" << std::flush; }

  int run(const ToolRun& r) {
    out_ << "$ " << (r.cwd.empty() ? "" : "(cd " + r.cwd.string() + ") ") << argv_text(r.argv) << "\n";
    ToolRun wrapped = r;
    wrapped.on_line = [this, &r](std::string_view line, bool err) {
      out_ << line << "\n";
      if (r.on_line) r.on_line(line, err);
    };
    const auto t0 = Clock::now();
    const int rc = run_tool(io_, wrapped).exit_code;
    out_ << fmt::format("# exit {} after {:.1f}s\n", rc, seconds(since(t0))) << std::flush;
    return rc;
  }
  void close() { out_.close(); }

 private:
  fs::path path_;
  std::ofstream out_;
  boost::asio::io_context io_;
};

// The error lines a failed make left, newest last.
class ErrorTail {
 public:
  void feed(std::string_view line) {
    const std::string l(line);
    if (l.find(": error: ") != std::string::npos || l.find(": fatal error: ") != std::string::npos ||
        l.find("undefined reference to") != std::string::npos || l.find(" Error ") != std::string::npos ||
        l.find("***") != std::string::npos) {
      errors_.push_back(l);
      if (errors_.size() > 50) errors_.pop_front();
    }
    last_.push_back(l);
    if (last_.size() > 5) last_.pop_front();
  }
  // The last compiler errors, or make's own complaint, or the last lines.
  std::string summary() const {
    std::vector<std::string> pick;
    for (const auto& e : errors_) {
      if (e.find(": error: ") != std::string::npos || e.find(": fatal error: ") != std::string::npos ||
          e.find("undefined reference to") != std::string::npos)
        pick.push_back(e);
    }
    if (pick.empty()) pick.assign(errors_.begin(), errors_.end());
    if (pick.empty()) pick.assign(last_.begin(), last_.end());
    if (pick.size() > 3) pick.erase(pick.begin(), pick.end() - 3);
    std::string out;
    for (const auto& p : pick) {
      if (!out.empty()) out += " | ";
      out += p;
    }
    return out;
  }

 private:
  std::deque<std::string> errors_;
  std::deque<std::string> last_;
};

// The string a generated header #defines `name` to ("#define NAME<tabs>\"value\"").
std::string define_value(const fs::path& header, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(header, ec)) return {};
  std::istringstream in(read_file(header));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string define, symbol;
    if (!(words >> define >> symbol) || define != "#define" || symbol != name) continue;
    const auto open = line.find('"'), close = line.rfind('"');
    if (open != std::string::npos && close > open) return line.substr(open + 1, close - open - 1);
  }
  return {};
}

// "Linux version 6.1.192 (numasoak@numasoak) (gcc ... ) #1 SMP ...", like init/version.c.
std::string banner_from_headers(const fs::path& obj) {
  const fs::path gen = obj / "include" / "generated";
  const std::string release = define_value(gen / "utsrelease.h", "UTS_RELEASE");
  std::string version = define_value(gen / "utsversion.h", "UTS_VERSION");
  if (version.empty()) version = define_value(gen / "compile.h", "UTS_VERSION");
  const std::string by = define_value(gen / "compile.h", "LINUX_COMPILE_BY");
  const std::string host = define_value(gen / "compile.h", "LINUX_COMPILE_HOST");
  const std::string compiler = define_value(gen / "compile.h", "LINUX_COMPILER");
  if (release.empty()) return {};
  return fmt::format("Linux version {} ({}@{}) ({}) {}", release, by, host, compiler, version);
}

// Writes the resolved bytes of every patch and fragment under `dir`
// (inputs/patches/NN-name, inputs/fragments/NN-name) and returns the inputs
// pointing at those copies: the build uses exactly what the key covers.
BuildInputs snapshot_inputs(const BuildInputs& in, const fs::path& dir) {
  BuildInputs out = in;
  int n = 0;
  auto copy = [&](std::vector<InputFile>& files, const char* sub) {
    for (auto& f : files) {
      const fs::path p = dir / sub / fmt::format("{:02}-{}", ++n, f.path.filename().string());
      fs::create_directories(p.parent_path());
      write_file_atomic(p, f.bytes);
      f.path = p;
    }
  };
  copy(out.patches, "patches");
  copy(out.amplifier, "patches");
  copy(out.fragments, "fragments");
  for (auto& f : out.widen_module) {  // kbuild needs the files' own names
    const fs::path p = dir / "kmod" / f.path.filename();
    fs::create_directories(p.parent_path());
    write_file_atomic(p, f.bytes);
    f.path = p;
  }
  return out;
}

// name, where it came from, the copy in the artifact, its sha256.
json file_list(const std::vector<InputFile>& origin, const std::vector<InputFile>& used, const fs::path& artifact) {
  json out = json::array();
  for (size_t i = 0; i < used.size(); ++i) {
    out.push_back({{"name", used[i].label},
                   {"origin", origin[i].path.string()},
                   {"file", fs::relative(used[i].path, artifact).string()},
                   {"sha256", sha256_file(used[i].path)}});
  }
  return out;
}

json source_json(const BuildInputs& in) {
  const auto& s = in.spec;
  json j;
  switch (s.kind) {
    case KernelSourceKind::kDebianSource:
      j = {{"kind", "debian"}, {"package", s.package}, {"version", in.source.version},
           {"tarball", in.source.tarball.string()}};
      break;
    case KernelSourceKind::kDebianImage:
      j = {{"kind", "debian-image"}, {"package", s.package}, {"resolved", in.source.package},
           {"version", in.source.version}};
      break;
    case KernelSourceKind::kTree:
      j = {{"kind", "tree"}, {"path", in.source.tree.string()}, {"version", in.source.version}};
      break;
    case KernelSourceKind::kBzImage: j = {{"kind", "bzimage"}, {"path", s.path.string()}}; break;
  }
  j["identity"] = in.source.id;
  return j;
}

KernelArtifact artifact_from_dir(const fs::path& dir, const std::string& name, const std::string& key) {
  KernelArtifact a;
  a.name = name;
  a.key = key;
  a.dir = dir;
  a.manifest = json::parse(read_file(dir / "manifest.json"));
  a.bzimage = dir / "bzImage";
  if (fs::exists(dir / "config")) a.config = dir / "config";
  a.release = a.manifest.value("release", "");
  a.banner = a.manifest.value("banner", "");
  std::error_code ec;
  a.size = Bytes{static_cast<std::uint64_t>(fs::file_size(a.bzimage, ec))};
  return a;
}

std::optional<KernelArtifact> published(const fs::path& dir, const std::string& name, const std::string& key) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "manifest.json", ec) || !fs::is_regular_file(dir / "bzImage", ec)) return std::nullopt;
  try {
    return artifact_from_dir(dir, name, key);
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable manifest: rebuild
  }
}

// Renames the finished temporary folder into place.
void publish_dir(const fs::path& tmp, const fs::path& final) {
  std::error_code ec;
  if (fs::exists(final, ec)) {
    const fs::path old = final.string() + ".old-" + std::to_string(::getpid());
    fs::rename(final, old, ec);
    fs::rename(tmp, final, ec);
    std::error_code ignore;
    fs::remove_all(old, ignore);
  } else {
    fs::rename(tmp, final, ec);
  }
  if (ec) throw infra_error(fmt::format("cannot publish {}: {}", final.string(), ec.message()));
}

// Removes .tmp-* folders whose builder process is gone.
void sweep_stale(const fs::path& kernels) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kernels, ec)) {
    const std::string n = e.path().filename().string();
    if (!n.starts_with(".tmp-")) continue;
    const auto dash = n.rfind('-');
    const pid_t pid = static_cast<pid_t>(std::atol(n.c_str() + dash + 1));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    std::error_code ignore;
    fs::remove_all(e.path(), ignore);
  }
}

// A temporary build folder that disappears unless published; on failure its
// build.log is kept under logs/.
class TempBuild {
 public:
  TempBuild(const fs::path& kernels, const std::string& key, const std::string& name, const std::string& suffix = ".log")
      : dir_(kernels / fmt::format(".tmp-{}-{}", key, ::getpid())),
        failed_log_(kernels.parent_path() / "logs" / fmt::format("{}-{}{}", sanitize_filename(name), key.substr(0, 12), suffix)) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::create_directories(dir_, ec);
    if (ec) throw infra_error(fmt::format("cannot create {}: {}", dir_.string(), ec.message()));
  }
  ~TempBuild() {
    std::error_code ec;
    if (!published_ && fs::exists(dir_, ec)) {
      fs::create_directories(failed_log_.parent_path(), ec);
      fs::rename(dir_ / "build.log", failed_log_, ec);
      fs::remove_all(dir_, ec);
    }
  }
  TempBuild(const TempBuild&) = delete;
  TempBuild& operator=(const TempBuild&) = delete;
  const fs::path& dir() const { return dir_; }
  const fs::path& failed_log() const { return failed_log_; }
  void published() { published_ = true; }

 private:
  fs::path dir_;
  fs::path failed_log_;
  bool published_ = false;
};

KernelArtifact ready_bzimage(const KernelSpec& spec, Clock::time_point t0, const Reporter& report) {
  std::error_code ec;
  if (!fs::is_regular_file(spec.path, ec)) {
    throw usage_error(fmt::format("kernel {}: {} does not exist", spec.name, spec.path.string()), "", spec.where);
  }
  if (!looks_like_bzimage(spec.path)) {
    throw usage_error(fmt::format("kernel {}: {} is not a bzImage (no \"HdrS\" magic at 0x202)", spec.name,
                                  spec.path.string()),
                      "point source at arch/x86/boot/bzImage or a /boot/vmlinuz-*", spec.where);
  }
  KernelArtifact a;
  a.name = spec.name;
  a.bzimage = spec.path;
  const std::string version = bzimage_version(spec.path).value_or("");
  a.release = release_of(version);
  a.banner = version.empty() ? "" : "Linux version " + version;
  a.size = Bytes{static_cast<std::uint64_t>(fs::file_size(spec.path, ec))};
  a.cache_hit = true;
  a.manifest = {{"kernel", spec.name},
                {"source", {{"kind", "bzimage"}, {"path", spec.path.string()}}},
                {"release", a.release},
                {"banner", a.banner},
                {"image_version", version},
                {"bzimage", {{"path", spec.path.string()}, {"size", a.size.value}, {"sha256", sha256_file(spec.path)}}}};
  a.elapsed = since(t0);
  report(BuildPhase::kDone, spec.path.string());
  return a;
}

// The last step of every build, downloaded or compiled: stamp and write the
// manifest, then move the finished folder into the cache in one rename.
KernelArtifact publish_build(TempBuild& tmp, BuildLog& log, json manifest, const fs::path& final,
                             const std::string& name, const std::string& key, Clock::time_point t0,
                             const Reporter& report) {
  manifest["built_at"] = utc_now();
  manifest["build_seconds"] = seconds(since(t0));
  write_file_atomic(tmp.dir() / "manifest.json", manifest.dump(2) + "\n");
  log.close();
  publish_dir(tmp.dir(), final);
  tmp.published();
  KernelArtifact a = artifact_from_dir(final, name, key);
  a.elapsed = since(t0);
  report(BuildPhase::kDone, a.bzimage.string());
  return a;
}

KernelArtifact fetch_debian_image(const BuildInputs& in, const std::string& key, const BuildOptions& options,
                                  Clock::time_point t0, const Reporter& report) {
  const fs::path kernels = cache_dir() / "kernels";
  const fs::path final = kernels / key;
  fs::create_directories(cache_dir() / "src");
  WorkTree::Lock lock(cache_dir() / "src" / (in.source.slug + ".lock"),
                      [&] { report(BuildPhase::kWaiting, in.source.package); });
  if (!options.force) {
    if (auto a = published(final, in.spec.name, key)) {
      a->cache_hit = true;
      a->elapsed = since(t0);
      return *a;
    }
  }
  sweep_stale(kernels);
  TempBuild tmp(kernels, key, in.spec.name);
  BuildLog log(tmp.dir() / "build.log");
  auto run = [&log](const ToolRun& r) { return log.run(r); };

  report(BuildPhase::kDownloading, in.source.package + "=" + in.source.version);
  const fs::path dl = tmp.dir() / "download";
  fs::create_directories(dl);
  fs::permissions(dl, fs::perms::all, fs::perm_options::replace);  // apt's _apt user writes here
  if (run(ToolRun{{"apt-get", "download", in.source.package + "=" + in.source.version}, dl, {}, {}}) != 0) {
    throw infra_error(fmt::format("apt-get download {}={} failed", in.source.package, in.source.version),
                      "see " + tmp.failed_log().string() + "; apt-get update?");
  }
  fs::path deb;
  for (const auto& e : fs::directory_iterator(dl)) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  if (deb.empty()) throw infra_error(fmt::format("apt-get download {} produced no .deb", in.source.package));

  report(BuildPhase::kUnpacking, deb.filename().string());
  const fs::path x = tmp.dir() / "extract";
  if (run(ToolRun{{"dpkg-deb", "-x", deb.string(), x.string()}, tmp.dir(), {}, {}}) != 0) {
    throw infra_error(fmt::format("dpkg-deb -x {} failed", deb.string()), "see " + tmp.failed_log().string());
  }
  fs::path vmlinuz;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(x / "boot", ec)) {
    if (e.path().filename().string().starts_with("vmlinuz-")) vmlinuz = e.path();
  }
  if (vmlinuz.empty() || !looks_like_bzimage(vmlinuz)) {
    throw infra_error(fmt::format("{} holds no /boot/vmlinuz-* bzImage", deb.filename().string()));
  }
  const std::string release = vmlinuz.filename().string().substr(8);
  fs::copy_file(vmlinuz, tmp.dir() / "bzImage");
  if (fs::exists(x / "boot" / ("config-" + release))) fs::copy_file(x / "boot" / ("config-" + release), tmp.dir() / "config");
  if (fs::exists(x / "boot" / ("System.map-" + release)))
    fs::copy_file(x / "boot" / ("System.map-" + release), tmp.dir() / "System.map");
  fs::rename(deb, tmp.dir() / deb.filename());
  fs::remove_all(x);
  fs::remove_all(dl);

  report(BuildPhase::kPublishing);
  const std::string version = bzimage_version(tmp.dir() / "bzImage").value_or("");
  const auto size = fs::file_size(tmp.dir() / "bzImage");
  json m = {{"kernel", in.spec.name},
            {"key", key},
            {"recipe", in.recipe},
            {"source", source_json(in)},
            {"deb", deb.filename().string()},
            {"release", release},
            {"banner", version.empty() ? "" : "Linux version " + version},
            {"image_version", version},
            {"bzimage", {{"file", "bzImage"}, {"size", size}, {"sha256", sha256_file(tmp.dir() / "bzImage")}}},
};
  return publish_build(tmp, log, std::move(m), final, in.spec.name, key, t0, report);
}

// Runs make in the source tree with the object tree and compiler we use everywhere.
std::vector<std::string> make_argv(const fs::path& obj, const BuildOptions& options, std::vector<std::string> targets) {
  std::vector<std::string> argv{"make", "O=" + obj.string()};
  if (options.use_ccache && ccache_available()) argv.push_back("CC=ccache gcc");
  argv.insert(argv.end(), targets.begin(), targets.end());
  return argv;
}

std::map<std::string, std::string> make_env() {
  return {{"CCACHE_DIR", (cache_dir() / "ccache").string()},
          {"KBUILD_BUILD_USER", "numasoak"},
          {"KBUILD_BUILD_HOST", "numasoak"},
          {"ARCH", "x86_64"}};
}

void check_config(const BuildInputs& in, const fs::path& obj);

// tinyconfig + fragments + olddefconfig into obj/.config, then the check
// that every fragment request survived.
void configure(const BuildInputs& in, WorkTree& wt, const fs::path& obj, BuildLog& log, const BuildOptions& options,
               const TempBuild& tmp, const Reporter& report) {
  const auto env = make_env();
  ErrorTail tail;
  auto feed = [&tail](std::string_view line, bool) { tail.feed(line); };
  auto step = [&](std::vector<std::string> argv, const std::string& what) {
    report(BuildPhase::kConfiguring, what);
    if (log.run(ToolRun{argv, wt.tree(), env, feed}) != 0) {
      throw infra_error(fmt::format("kernel {}: {} failed: {}", in.spec.name, what, tail.summary()),
                        "log: " + tmp.failed_log().string());
    }
  };
  std::error_code ec;
  fs::create_directories(obj, ec);
  step(make_argv(obj, options, {"tinyconfig"}), "make tinyconfig");
  std::vector<std::string> merge{"/bin/sh", (wt.tree() / "scripts" / "kconfig" / "merge_config.sh").string(), "-m",
                                 "-O", obj.string(), (obj / ".config").string()};
  for (const auto& f : in.fragments) merge.push_back(f.path.string());
  step(merge, "merge_config.sh");
  step(make_argv(obj, options, {"olddefconfig"}), "make olddefconfig");
  check_config(in, obj);
}

// Every fragment request must be in obj/.config as asked.
void check_config(const BuildInputs& in, const fs::path& obj) {
  std::vector<KconfigRequest> requests;
  for (const auto& f : in.fragments) {
    auto r = parse_fragment(read_file(f.path), f.label);
    requests.insert(requests.end(), r.begin(), r.end());
  }
  const auto final_config = parse_config(read_file(obj / ".config"));
  auto unmet = unmet_requests(requests, final_config);
  if (!unmet.empty()) {
    throw infra_error(fmt::format("kernel {}: {}", in.spec.name, describe_unmet(unmet, final_config)),
                      "config: " + (obj / ".config").string());
  }
}

KernelArtifact compile_kernel(const BuildInputs& resolved, const std::string& key, const BuildOptions& options,
                              Clock::time_point t0, const Reporter& report) {
  const fs::path kernels = cache_dir() / "kernels";
  const fs::path final = kernels / key;
  WorkTree wt(cache_dir() / "src" / resolved.source.slug);
  WorkTree::Lock lock(wt.root() / "lock", [&] { report(BuildPhase::kWaiting, resolved.source.slug); });
  if (!options.force && !options.configure_only) {
    if (auto a = published(final, resolved.spec.name, key)) {  // built while we waited
      a->cache_hit = true;
      a->elapsed = since(t0);
      report(BuildPhase::kDone, a->bzimage.string());
      return *a;
    }
  }
  fs::create_directories(kernels);
  sweep_stale(kernels);
  TempBuild tmp(kernels, key, resolved.spec.name, options.configure_only ? ".check.log" : ".log");
  const BuildInputs in = snapshot_inputs(resolved, tmp.dir() / "inputs");
  BuildLog log(tmp.dir() / "build.log");
  auto run = [&log](const ToolRun& r) { return log.run(r); };
  log.note(fmt::format("numasoak kernel build {} key {} at {}", in.spec.name, key, utc_now()));

  // 1. Source.
  std::string tarball_sha;
  if (in.spec.kind == KernelSourceKind::kDebianSource) {
    if (!fs::is_directory(wt.tree())) report(BuildPhase::kUnpacking, in.source.tarball.string());
    wt.ensure_unpacked(in.source.tarball, run);
    const std::string note_key = "tarball_sha256 " + in.source.id;
    tarball_sha = wt.note(note_key);
    if (tarball_sha.empty()) {
      tarball_sha = sha256_file(in.source.tarball);
      wt.set_note(note_key, tarball_sha);
    }
  } else {
    std::error_code ec;
    if (fs::exists(in.source.tree / ".config", ec)) {
      throw usage_error(fmt::format("kernel {}: {} has been configured in place (.config exists)", in.spec.name,
                                    in.source.tree.string()),
                        "run make mrproper there; numasoak builds out of tree", in.spec.where);
    }
  }

  // 2. Patches: the series in order, then the amplifier.
  std::vector<InputFile> series = in.patches;
  series.insert(series.end(), in.amplifier.begin(), in.amplifier.end());
  report(BuildPhase::kPatching, series.empty() ? "no patches" : fmt::format("{} patch(es)", series.size()));
  auto notify = [&](const std::string& what) {
    if (what.starts_with("patching ")) {
      report(BuildPhase::kPatching, what.substr(9));
    } else {
      report(BuildPhase::kUnpacking, what);
    }
  };
  wt.apply_series(series, run, notify,
                  in.spec.kind == KernelSourceKind::kTree ? in.source.tree : fs::path(),
                  in.spec.kind == KernelSourceKind::kTree ? in.source.id : std::string());

  // 3. Configuration.
  // A configuration check uses its own object tree: a different .config in
  // obj/ would make the next real build recompile everything.
  const fs::path obj = options.configure_only ? wt.root() / "obj-check" : wt.obj();
  const std::string ckey = config_key(in);
  std::error_code cec;
  if (!options.configure_only && wt.note("config_key") == ckey && fs::is_regular_file(obj / ".config", cec) &&
      sha256_file(obj / ".config") == wt.note("config_sha256")) {
    // The last configuration had the same inputs: skip the Kconfig runs.
    report(BuildPhase::kConfiguring, "reusing .config");
    log.note("configuration inputs unchanged (config key " + ckey + "): reusing " + (obj / ".config").string());
    check_config(in, obj);
  } else {
    if (!options.configure_only) wt.set_note("config_key", "");
    configure(in, wt, obj, log, options, tmp, report);
    if (!options.configure_only) {
      wt.set_note("config_sha256", sha256_file(obj / ".config"));
      wt.set_note("config_key", ckey);
    }
  }
  if (options.configure_only) {
    KernelArtifact a;
    a.name = in.spec.name;
    a.key = key;
    a.config = obj / ".config";
    a.elapsed = since(t0);
    report(BuildPhase::kDone, a.config.string());
    return a;
  }

  // 4. Compile.
  const int jobs = options.jobs > 0 ? options.jobs : default_jobs();
  const int total = wt.last_cc_count();
  int cc = 0;
  bool linking = false;
  ErrorTail tail;
  report(BuildPhase::kCompiling, "", 0, total);
  // A kernel that builds the widen module needs `modules` too (modpost and
  // Module.symvers for the external build in 4b).
  std::vector<std::string> targets{fmt::format("-j{}", jobs), "bzImage"};
  if (!in.widen_module.empty()) targets.push_back("modules");
  ToolRun mk{make_argv(wt.obj(), options, targets), wt.tree(), make_env(),
             [&](std::string_view line, bool) {
               tail.feed(line);
               if (line.starts_with("  CC ")) ++cc;
               if (!linking && line.starts_with("  LD ") && line.find("vmlinux") != std::string_view::npos) linking = true;
               if (line.starts_with("  CC ") || line.starts_with("  LD ")) {
                 if (linking) {
                   report(BuildPhase::kLinking, std::string(line.substr(line.find_last_of(' ') + 1)), cc,
                          total >= cc ? total : 0);
                 } else {
                   report(BuildPhase::kCompiling, std::string(line.substr(line.find_last_of(' ') + 1)), cc,
                          total >= cc ? total : 0);
                 }
               }
             }};
  if (log.run(mk) != 0) {
    throw infra_error(fmt::format("kernel {}: build failed: {}", in.spec.name, tail.summary()),
                      "log: " + tmp.failed_log().string());
  }
  wt.set_last_cc_count(cc);

  // 4b. The outside amplifier's module, built against this very tree (kbuild
  // writes an external module's objects next to its source: the copy in the
  // artifact's inputs/kmod, never the checkout).
  fs::path widen_ko;
  if (!in.widen_module.empty()) {
    const fs::path kmod = in.widen_module.front().path.parent_path();
    report(BuildPhase::kCompiling, "numasoak_widen.ko");
    ToolRun km{make_argv(wt.obj(), options, {"M=" + kmod.string(), "modules"}), wt.tree(), make_env(),
               [&](std::string_view line, bool) { tail.feed(line); }};
    widen_ko = kmod / "numasoak_widen.ko";
    std::error_code kec;
    if (log.run(km) != 0 || !fs::is_regular_file(widen_ko, kec)) {
      throw infra_error(fmt::format("kernel {}: the widen module did not build: {}", in.spec.name, tail.summary()),
                        "log: " + tmp.failed_log().string());
    }
  }

  // 5. What was built.
  std::string release;
  {
    ToolRun kr{make_argv(wt.obj(), options, {"-s", "kernelrelease"}), wt.tree(), make_env(), [&](std::string_view line, bool err) {
                 if (!err && !line.empty()) release = std::string(line);
               }};
    if (log.run(kr) != 0 || release.empty()) {
      throw infra_error(fmt::format("kernel {}: make kernelrelease failed", in.spec.name), "log: " + tmp.failed_log().string());
    }
  }
  const std::string banner = banner_from_headers(wt.obj());
  const fs::path built = wt.obj() / "arch" / "x86" / "boot" / "bzImage";
  const std::string image_version = bzimage_version(built).value_or("");
  if (image_version.empty()) {
    throw infra_error(fmt::format("kernel {}: {} is not a bzImage", in.spec.name, built.string()));
  }

  // 6. Publish.
  report(BuildPhase::kPublishing);
  fs::copy_file(built, tmp.dir() / "bzImage");
  fs::copy_file(wt.obj() / ".config", tmp.dir() / "config");
  std::error_code ec;
  if (fs::exists(wt.obj() / "System.map", ec)) fs::copy_file(wt.obj() / "System.map", tmp.dir() / "System.map");
  // vmlinux (with its symbol table) is what the window locator disassembles
  // and what stack frames are decoded against.
  if (fs::exists(wt.obj() / "vmlinux", ec)) fs::copy_file(wt.obj() / "vmlinux", tmp.dir() / "vmlinux");
  if (!widen_ko.empty()) fs::copy_file(widen_ko, tmp.dir() / "numasoak_widen.ko");
  const auto size = fs::file_size(tmp.dir() / "bzImage");
  json src = source_json(in);
  if (!tarball_sha.empty()) src["tarball_sha256"] = tarball_sha;
  json m = {{"kernel", in.spec.name},
            {"key", key},
            {"recipe", in.recipe},
            {"source", src},
            {"patches", file_list(resolved.patches, in.patches, tmp.dir())},
            {"amplifier",
             {{"on", !in.amplifier_series.empty()},
              {"series", in.amplifier_series.string()},
              {"patches", file_list(resolved.amplifier, in.amplifier, tmp.dir())}}},
            {"fragments", file_list(resolved.fragments, in.fragments, tmp.dir())},
            {"widen_module", widen_ko.empty() ? json(nullptr) : json("numasoak_widen.ko")},
            {"compiler", in.compiler},
            {"ccache", options.use_ccache && ccache_available()},
            {"release", release},
            {"banner", banner},
            {"image_version", image_version},
            {"bzimage", {{"file", "bzImage"}, {"size", size}, {"sha256", sha256_file(tmp.dir() / "bzImage")}}},
            {"cc_count", cc},
            {"jobs", jobs}};
  log.note("published " + final.string());
  return publish_build(tmp, log, std::move(m), final, in.spec.name, key, t0, report);
}

}  // namespace

KernelArtifact build_kernel(const KernelSpec& spec, const BuildOptions& options) {
  const auto t0 = Clock::now();
  const Reporter report{options};
  report(BuildPhase::kResolving, spec.name);
  if (spec.kind == KernelSourceKind::kBzImage) return ready_bzimage(spec, t0, report);
  const fs::path images = options.images_dir.empty() ? default_images_dir() : options.images_dir;
  const BuildInputs in = resolve_inputs(spec, images);
  const std::string key = cache_key(in);
  if (!options.force && !options.configure_only) {
    if (auto a = published(cache_dir() / "kernels" / key, spec.name, key)) {
      a->cache_hit = true;
      a->elapsed = since(t0);
      report(BuildPhase::kDone, a->bzimage.string());
      return *a;
    }
  }
  std::error_code ec;
  fs::create_directories(cache_dir() / "kernels", ec);
  if (ec) throw infra_error(fmt::format("cannot create {}: {}", (cache_dir() / "kernels").string(), ec.message()));
  if (spec.kind == KernelSourceKind::kDebianImage) return fetch_debian_image(in, key, options, t0, report);
  return compile_kernel(in, key, options, t0, report);
}

std::optional<KernelArtifact> find_cached_kernel(const KernelSpec& spec, const BuildOptions& options) {
  if (spec.kind == KernelSourceKind::kBzImage) return ready_bzimage(spec, Clock::now(), Reporter{options});
  const fs::path images = options.images_dir.empty() ? default_images_dir() : options.images_dir;
  const BuildInputs in = resolve_inputs(spec, images);
  const std::string key = cache_key(in);
  auto a = published(cache_dir() / "kernels" / key, spec.name, key);
  if (a) a->cache_hit = true;
  return a;
}

}  // namespace numasoak
