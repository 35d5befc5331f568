// `numasoak image build`: the guest initramfs (busybox-static + the static
// numasoak-workload + /init), reproducible and cached by content
// (image/image.h). Prints where it is, its size and whether it was cached.
#include <cstdio>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/verb.h"
#include "image/image.h"

namespace numasoak::cli {
namespace {

struct ImageArgs {
  bool json = false;
  std::string busybox;
  std::string workload;
  std::string init;
};

ExitCode build(const ImageArgs& args, const Globals& globals) {
  image::ImageInputs in = image::ImageInputs::defaults();
  if (!args.busybox.empty()) in.busybox = args.busybox;
  if (!args.workload.empty()) in.workload = args.workload;
  if (!args.init.empty()) in.init = args.init;
  const bool json = args.json || globals.json;
  const auto a = image::build_image(in, [](std::string_view line) { spdlog::info("image: {}", line); });
  if (json) {
    const nlohmann::json out = {{"path", a.path.string()},     {"manifest", a.manifest.string()},
                                {"hash", a.hash},              {"sha256", a.sha256},
                                {"size", a.size.value},        {"cache_hit", a.cache_hit},
                                {"busybox_version", a.busybox_version}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << fmt::format("initramfs: {}  {:.1f} MiB  {}\n", a.path.string(),
                             static_cast<double>(a.size.value) / (1 << 20), a.cache_hit ? "cached" : "built");
  }
  return ExitCode::kOk;
}

const VerbRegistration kRegistration(30, [](Command& app, const Globals& globals) -> VerbAction {
  auto args = std::make_shared<ImageArgs>();
  Command image = app.subcommand("image", "Build the guest initramfs");
  image.require_subcommand();
  Command b = image.subcommand("build", "Build the initramfs (or find it in the cache)");
  b.flag("--json", args->json, "Print the artifact as JSON on stdout");
  b.option("--busybox", args->busybox, "Static busybox to pack (default /bin/busybox)");
  b.option("--workload", args->workload, "numasoak-workload to pack (default: the one built with numasoak)");
  b.option("--init", args->init, "Init script to pack (default: guest/init as built)");
  return [args, b, &globals]() -> ExitCode {
    if (b.parsed()) return build(*args, globals);
    return ExitCode::kUsage;
  };
});

}  // namespace
}  // namespace numasoak::cli
