#include "bench/bench_image.h"

#include <fmt/format.h>
#include <unistd.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"
#include "kernel/inputs.h"
#include "kernel/tool.h"
#include "spec/external_paths.h"

namespace numasoak::bench {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDepsHint = "apt-get install stress-ng libnuma-dev (scripts/install-deps)";
constexpr const char* kStressNg = "/usr/bin/stress-ng";
constexpr const char* kLibnuma = "/usr/lib/x86_64-linux-gnu/libnuma.a";
// Below tools/testing/selftests: the test and the harness headers it includes.
constexpr std::array<const char*, 3> kSelftestFiles = {"vm/migration.c", "kselftest_harness.h", "kselftest.h"};

void say(const image::ImageProgress& p, const std::string& line) {
  if (p) p(line);
}

// Copies the selftest's files into `dir`/selftests/ from the persistent work
// tree when it is unpacked, else from the source tarball.
void fetch_selftest_sources(const kernel::SourceIdentity& src, const fs::path& dir) {
  const fs::path out = dir / "selftests";
  fs::create_directories(out / "vm");
  const fs::path tree = cache_dir() / "src" / src.slug / "tree" / "tools/testing/selftests";
  std::error_code ec;
  if (fs::is_regular_file(tree / kSelftestFiles[0], ec)) {
    for (const char* f : kSelftestFiles) fs::copy_file(tree / f, out / f, fs::copy_options::overwrite_existing);
    return;
  }
  std::vector<std::string> argv = {"tar", "-xJf", src.tarball.string(), "-C", out.string(), "--wildcards",
                                   "--strip-components=4"};
  for (const char* f : kSelftestFiles) argv.push_back(std::string("*/tools/testing/selftests/") + f);
  kernel::tool_output(argv);
  for (const char* f : kSelftestFiles)
    if (!fs::is_regular_file(out / f, ec))
      throw infra_error(fmt::format("{} has no tools/testing/selftests/{}", src.tarball.string(), f));
}

fs::path build_selftest(const KernelSpec& spec, BenchImage& out, const image::ImageProgress& progress) {
  const kernel::BuildInputs in = kernel::resolve_inputs(spec, kernel::default_images_dir());
  if (in.source.tarball.empty())
    throw usage_error(fmt::format("kernel {}: the migration selftest needs a Debian source kernel", spec.name));
  out.selftest_source = fmt::format("{} {}", spec.package, in.source.version);
  std::error_code ec;
  if (!fs::is_regular_file(kLibnuma, ec)) throw infra_error(fmt::format("{} not found", kLibnuma), std::string(kDepsHint));

  const fs::path tmp = make_private_dir("numasoak-selftest");
  /// Removes the selftest build folder however the build ends.
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{tmp};
  fetch_selftest_sources(in.source, tmp);
  ContentHash key;
  key.add("recipe", "selftest-migration/1 gcc -static -O2 -lnuma -lpthread");
  for (const char* f : kSelftestFiles) key.add(f, read_file(tmp / "selftests" / f));
  key.add("compiler", in.compiler).add("libnuma.a", read_file(kLibnuma));
  const fs::path dir = cache_dir() / "bench" / "selftest-migration" / key.hex();
  const fs::path bin = dir / "selftest-migration";
  if (fs::is_regular_file(bin, ec)) {
    out.selftest_cache_hit = true;
    say(progress, fmt::format("selftests/vm/migration from {} is cached", out.selftest_source));
    return bin;
  }
  say(progress, fmt::format("building selftests/vm/migration from {} (static)", out.selftest_source));
  const fs::path built = tmp / "selftest-migration";
  kernel::tool_output({"gcc", "-static", "-O2", "-w", "-I" + (tmp / "selftests").string(), "-o", built.string(),
                       (tmp / "selftests" / "vm" / "migration.c").string(), "-lnuma", "-lpthread"});
  fs::create_directories(dir);
  write_file_atomic(bin, read_file(built));
  fs::permissions(bin, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  return bin;
}

}  // namespace

std::vector<fs::path> parse_ldd(std::string_view listing) {
  std::vector<fs::path> out;
  std::size_t pos = 0;
  while (pos < listing.size()) {
    std::size_t end = listing.find('\n', pos);
    if (end == std::string_view::npos) end = listing.size();
    std::string_view line = listing.substr(pos, end - pos);
    pos = end + 1;
    // "\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
    if (const auto arrow = line.find("=> "); arrow != std::string_view::npos) line = line.substr(arrow + 3);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() != '/') continue;
    const auto sp = line.find(' ');
    const std::string_view path = line.substr(0, sp);
    if (path.find("..") != std::string_view::npos) continue;
    out.emplace_back(std::string(path));
  }
  return out;
}

BenchImage build_bench_image(const KernelSpec& source_kernel, const image::ImageProgress& progress) {
  BenchImage out;
  std::error_code ec;
  if (!fs::is_regular_file(kStressNg, ec)) throw infra_error(fmt::format("{} not found", kStressNg), std::string(kDepsHint));
  out.stress_ng = kStressNg;
  out.selftest = build_selftest(source_kernel, out, progress);

  image::ImageInputs in = image::ImageInputs::defaults();
  in.extras.push_back({nsw::kSelftestMigrationPath, out.selftest, 0755});
  in.extras.push_back({nsw::kStressNgPath, kStressNg, 0755});
  for (const fs::path& lib : parse_ldd(kernel::tool_output({"ldd", kStressNg}))) {
    in.extras.push_back({lib.string(), lib, 0755});
    ++out.libraries;
  }
  if (out.libraries == 0) throw infra_error(fmt::format("ldd {} named no libraries", kStressNg));
  out.image = image::build_image(in, progress);
  return out;
}

}  // namespace numasoak::bench
