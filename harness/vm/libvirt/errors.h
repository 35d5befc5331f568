// What a libvirt failure means for the person running numasoak.
//
// libvirt reports failures as (code, domain, message) with ssh's or the
// daemon's text folded in. These functions sort them into the few cases a
// user can act on and make one-line numasoak::Errors that name the host and
// say what to do. Pure (classification is unit-tested on real messages);
// last_error() is the only call into libvirt.
#pragma once

#include <string>

#include "common/error.h"

namespace numasoak::vm::libvirt {

/// libvirt's last error: its code, domain and message.
struct LibvirtError {
  int code = 0;    // virErrorNumber
  int domain = 0;  // virErrorDomain
  std::string message;
};

// The calling thread's last libvirt error (then reset); "unknown libvirt
// error" when there is none.
LibvirtError last_error();

/// What kind of trouble a libvirt error means, for the one-line hint.
enum class Failure {
  kUnreachable,        // no route, refused, timed out, unknown host
  kAuthentication,     // ssh key refused, host key mismatch, polkit, socket permissions
  kDaemonDown,         // libvirtd (or its socket) is not there
  kStoragePermission,  // cannot create or write the numasoak storage pool
  kNoNuma,             // the emulator cannot build the NUMA topology
  kConnectionLost,     // the connection broke during the call (libvirtd restarted, host gone)
  kEmulatorDied,       // QEMU died while libvirt started it, saying nothing (killed from outside)
  kOther,
};

const char* to_string(Failure f);

// Sorts a failure to open a connection.
Failure classify_connect(const LibvirtError& e);
// Sorts a failure of a storage pool / volume call.
Failure classify_storage(const LibvirtError& e);
// Sorts a failure of virDomainCreateXML.
Failure classify_create(const LibvirtError& e);

// The Errors: "libvirt host <uri>: <what>: <libvirt's words>" plus a hint.
Error connect_error(const std::string& uri, const LibvirtError& e);
Error storage_error(const std::string& uri, const std::string& what, const LibvirtError& e);
Error create_error(const std::string& uri, const std::string& domain, const LibvirtError& e);

// libvirt's text on one line (ssh errors carry newlines).
std::string one_line(std::string s);

}  // namespace numasoak::vm::libvirt
