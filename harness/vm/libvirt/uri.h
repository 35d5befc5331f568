// libvirt connection URIs: the parts numasoak looks at.
//
//   driver[+transport]://[user@][host][:port]/path[?param=value&...]
//
// Remote URIs get a TCP reachability check before virConnectOpen (so an
// unreachable host fails fast and never blocks the event loop in ssh's
// connect), and ssh URIs get no_tty=1: a campaign runs unattended, so ssh
// must fail instead of asking for a password.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace numasoak::vm::libvirt {

/// A libvirt URI taken apart.
struct UriParts {
  std::string driver;     // "qemu"
  std::string transport;  // "ssh", "tcp", "tls", "libssh", "libssh2", "unix", "ext" or ""
  std::string user;
  std::string host;       // "" for a local URI
  int port = 0;           // 0 = the transport's default
  std::string path;       // "/system"
  std::map<std::string, std::string> params;
};

// Parses a URI; nullopt when it is not of the form above.
std::optional<UriParts> parse_uri(const std::string& uri);

// The host and port a remote URI connects to (defaults filled in: ssh 22,
// tcp 16509, tls 16514), or nullopt for local and 'ext' URIs.
std::optional<std::pair<std::string, int>> tcp_endpoint(const std::string& uri);

// The URI numasoak opens: no_tty=1 added to ssh URIs that do not say.
std::string unattended_uri(const std::string& uri);

}  // namespace numasoak::vm::libvirt
