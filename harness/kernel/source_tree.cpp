// The source tree of a compiled build: inputs snapshot, unpack, patches
// (kernel/source_tree.h).
#include "kernel/source_tree.h"

#include <fmt/format.h>
#include <vector>

#include "common/error.h"
#include "common/hash.h"
#include "common/paths.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;

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

std::string prepare_tree(const BuildInputs& in, WorkTree& wt, const Runner& run, const Reporter& report) {
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
  return tarball_sha;
}

}  // namespace numasoak::kernel
