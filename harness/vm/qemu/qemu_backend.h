// QemuBackend: guests as direct qemu-system-x86_64 children.
//
// Each guest gets a private runtime directory (0700) holding three Unix
// sockets that numasoak listens on and QEMU connects to at start: the
// kernel console (ttyS0), the agent channel (ttyS1) and QMP. QEMU is spawned
// from an argv vector with Boost.Process on the caller's io_context, dies
// with the harness (PR_SET_PDEATHSIG), and runs with -no-reboot and a
// pvpanic device so a kernel panic ends the guest with a GUEST_PANICKED event.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "vm/backend.h"
#include "vm/guest_cmdline.h"

namespace numasoak::vm {

/// Which QEMU binary to run, and how long to wait for its last bytes.
struct QemuOptions {
  std::string binary = "qemu-system-x86_64";  // looked up in PATH
  std::chrono::milliseconds drain{2000};      // how long to wait for the last console bytes after exit
};

/// Guests as qemu-system-x86_64 children of this process (see above).
class QemuBackend : public Backend {
 public:
  explicit QemuBackend(boost::asio::io_context& io, QemuOptions options = {});
  std::string name() const override { return "qemu"; }
  std::unique_ptr<Guest> start(const GuestSpec& spec, GuestHandlers handlers) override;

  // The QEMU argv (argv[0] = the binary) for a guest whose sockets live in
  // `runtime_dir`. Pure: tests check it without starting anything.
  static std::vector<std::string> build_argv(const GuestSpec& spec, const std::filesystem::path& runtime_dir,
                                             const std::string& binary);

  // The full path of the QEMU binary; throws a usage Error naming the
  // Debian package when it is missing.
  static std::filesystem::path find_binary(const std::string& binary);

 private:
  boost::asio::io_context& io_;
  QemuOptions options_;
};

}  // namespace numasoak::vm
