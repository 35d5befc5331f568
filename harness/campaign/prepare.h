// Preparation shared by `run`, `compare` and `bench`: the kernels a campaign
// names (built or found in the cache), the guest image, the backend and the
// accelerator.
// Each step reports progress on a StatusLine and fails with a one-line Error.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/campaign.h"
#include "image/image.h"
#include "kernel/build.h"
#include "vm/accel_probe.h"
#include "vm/backend.h"

namespace numasoak {

// Builds (or takes from the cache) one kernel, with a live progress line.
KernelArtifact prepare_kernel(const KernelSpec& spec, bool quiet);

// Builds (or takes from the cache) the guest initramfs.
image::ImageArtifact prepare_image(bool quiet);

// Runs the KVM probe on `io` to completion and returns the decision;
// throws a usage Error when kvm was required and does not work. Prints the
// fallback warning once.
vm::AccelDecision decide_accel(boost::asio::io_context& io, vm::Backend& backend, Accel requested,
                               const std::filesystem::path& kernel, const std::filesystem::path& initrd);

// The backend the campaign names (backend.kind): direct QEMU, or its
// libvirt hosts as one pool, connected (blocking).
std::unique_ptr<vm::Backend> make_backend(boost::asio::io_context& io, const Campaign& campaign);

/// The accelerator a campaign's guests ask for, and a line saying what they get.
struct CampaignAccel {
  vm::Accel accel = vm::Accel::kTcg;
  std::string text;  // for the log: "tcg", or "kvm uri1, tcg uri2" per libvirt host
};

// decide_accel() for any backend: one whose hosts probe for themselves
// (vm::PerHostAccel) probes each host, logs their fallbacks, and asks for
// KVM unless `requested` is tcg (each host gives what its probe found).
CampaignAccel decide_campaign_accel(boost::asio::io_context& io, vm::Backend& backend, Accel requested,
                                    const std::filesystem::path& kernel, const std::filesystem::path& initrd);

// Throws a usage Error when this host cannot give a guest `topology`: more
// guest memory than the host has (QEMU would start and then fail, or push the
// host into swap and make every watchdog lie). For local QEMU guests only.
void check_host_fits(const Topology& topology);

// A kernel named on the command line: a campaign/library name, a bzImage
// path or a kernel tree path.
KernelSpec kernel_from_argument(const std::string& arg, const std::map<std::string, KernelSpec>& known);

}  // namespace numasoak
