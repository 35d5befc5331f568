// What every backend boots a guest kernel with, whatever runs it (the QEMU
// argv's -append, the libvirt domain's <cmdline>).
#pragma once

#include <string>

namespace numasoak::vm {

/// The kernel command line the backends boot with: the caller's plus the
/// console and panic settings the backends rely on.
std::string backend_cmdline(const std::string& extra);

}  // namespace numasoak::vm
