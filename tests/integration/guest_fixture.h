// Shared set-up for integration tests: the 6.1 guest kernel (built once and
// cached in the user's cache dir) and initramfs images with test inits.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "config/campaign.h"
#include "image/image.h"
#include "kernel/build.h"
#include "result/run_result.h"
#include "run/run.h"

namespace numasoak::testing {

// The default "6.1" kernel from configs/kernels.toml (amplifier compiled in).
const KernelArtifact& kernel_61();
// The "6.1+backport" kernel.
const KernelArtifact& kernel_61_backport();
// Any kernel of configs/kernels.toml, e.g. "6.1+seed-series:debug" (built once).
const KernelArtifact& kernel_called(const std::string& name);
// An image whose /init is tests/integration/inits/<name>, or the real guest init.
const image::ImageArtifact& image_with_init(const std::string& name);
const image::ImageArtifact& real_image();

// A plan for a 2-node, 2-vCPU TCG guest with short watchdogs.
RunPlan small_plan(const KernelArtifact& k, const image::ImageArtifact& img, const std::string& id);

// Runs `plan` to the end on a fresh io_context; `while_running` (optional) is
// called once the guest is running, with the io_context. Fails the test
// (returns a default result) when no result comes within `limit`.
RunResult run_to_end(const RunPlan& plan, std::chrono::seconds limit,
                     std::function<void(boost::asio::io_context&, Run&)> on_started = {});

// The pids of processes whose command line contains `needle`.
std::vector<int> pids_with_cmdline(const std::string& needle);

// Waits (pidfd + poll, no sleeping) until every one of `pids` has exited;
// false when one is still there after `limit`. For processes that are not
// our children, e.g. QEMUs killed with a SIGKILLed harness: they need a
// moment to die after their parent did.
bool all_exit_within(const std::vector<int>& pids, std::chrono::milliseconds limit);

}  // namespace numasoak::testing
