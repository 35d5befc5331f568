// manifest.json of compiled and downloaded kernel builds (kernel/manifest.h).
#include "kernel/manifest.h"

#include <vector>

#include "common/hash.h"
#include "kernel/bzimage.h"
#include "kernel/make.h"

namespace numasoak::kernel {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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

json bzimage_json(const fs::path& artifact) {
  const auto size = fs::file_size(artifact / "bzImage");
  return {{"file", "bzImage"}, {"size", size}, {"sha256", sha256_file(artifact / "bzImage")}};
}

}  // namespace

json compiled_manifest(const BuildInputs& resolved, const BuildInputs& used, const std::string& key,
                       const CompiledTree& built, const std::string& tarball_sha, const BuildOptions& options,
                       const fs::path& artifact) {
  json src = source_json(used);
  if (!tarball_sha.empty()) src["tarball_sha256"] = tarball_sha;
  return {{"kernel", used.spec.name},
          {"key", key},
          {"recipe", used.recipe},
          {"source", src},
          {"patches", file_list(resolved.patches, used.patches, artifact)},
          {"amplifier",
           {{"on", !used.amplifier_series.empty()},
            {"series", used.amplifier_series.string()},
            {"patches", file_list(resolved.amplifier, used.amplifier, artifact)}}},
          {"fragments", file_list(resolved.fragments, used.fragments, artifact)},
          {"widen_module", built.widen_ko.empty() ? json(nullptr) : json("numasoak_widen.ko")},
          {"compiler", used.compiler},
          {"ccache", options.use_ccache && ccache_available()},
          {"release", built.release},
          {"banner", built.banner},
          {"image_version", built.image_version},
          {"bzimage", bzimage_json(artifact)},
          {"cc_count", built.cc_count},
          {"jobs", built.jobs}};
}

json debian_image_manifest(const BuildInputs& in, const std::string& key, const std::string& deb,
                           const std::string& release, const fs::path& artifact) {
  const std::string version = bzimage_version(artifact / "bzImage").value_or("");
  return {{"kernel", in.spec.name},
          {"key", key},
          {"recipe", in.recipe},
          {"source", source_json(in)},
          {"deb", deb},
          {"release", release},
          {"banner", version.empty() ? "" : "Linux version " + version},
          {"image_version", version},
          {"bzimage", bzimage_json(artifact)}};
}

}  // namespace numasoak::kernel
