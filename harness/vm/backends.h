// Making a Backend: the one place outside the backends themselves that
// knows their concrete types. Everything else holds a vm::Backend& (and
// asks for optional interfaces such as vm::PerHostAccel with dynamic_cast).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "vm/accel_probe.h"
#include "vm/backend.h"

namespace numasoak::vm {

/// One libvirt host of a pool ([[backend.hosts]] without the file location).
struct LibvirtHostSpec {
  std::string uri;
  int capacity = 0;  // vCPUs numasoak may keep busy there; 0 = the host's CPU count
  std::vector<std::string> labels;
};

/// Which backend to make, and what it needs.
struct BackendSpec {
  /// Where guests run: direct QEMU children here, or a pool of libvirt hosts.
  enum class Kind { kQemu, kLibvirt };
  Kind kind = Kind::kQemu;
  std::vector<LibvirtHostSpec> hosts;          // kLibvirt
  Accel accel = Accel::kAuto;    // kLibvirt: what each host may use
};

/// The backend `spec` names, ready to start guests on `io`: a libvirt pool
/// is connected first (blocking; throws the Error of the first host when
/// none connects).
std::unique_ptr<Backend> make_backend(boost::asio::io_context& io, const BackendSpec& spec);

}  // namespace numasoak::vm
