#include "vm/libvirt/uri.h"

#include <regex>

namespace numasoak::vm::libvirt {

std::optional<UriParts> parse_uri(const std::string& uri) {
  static const std::regex kUri(R"(^([a-z0-9]+)(\+([a-z0-9]+))?://(([^@/?]*)@)?(\[[^\]]*\]|[^:/?]*)(:([0-9]+))?(/[^?]*)?(\?(.*))?$)");
  std::smatch m;
  if (!std::regex_match(uri, m, kUri)) return std::nullopt;
  UriParts p;
  p.driver = m[1].str();
  p.transport = m[3].str();
  p.user = m[5].str();
  p.host = m[6].str();
  if (p.host.size() >= 2 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  if (m[8].matched) {
    try {
      p.port = std::stoi(m[8].str());
    } catch (...) {
      return std::nullopt;
    }
  }
  p.path = m[9].str();
  const std::string query = m[11].str();
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string kv = query.substr(pos, amp - pos);
    const size_t eq = kv.find('=');
    if (!kv.empty()) p.params[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    pos = amp + 1;
  }
  return p;
}

std::optional<std::pair<std::string, int>> tcp_endpoint(const std::string& uri) {
  const auto p = parse_uri(uri);
  if (!p || p->host.empty()) return std::nullopt;
  int port = p->port;
  const std::string& t = p->transport;
  if (t == "ssh" || t == "libssh" || t == "libssh2") {
    if (port == 0) port = 22;
  } else if (t == "tcp") {
    if (port == 0) port = 16509;
  } else if (t == "tls" || t.empty()) {
    // A host without a transport means TLS.
    if (port == 0) port = 16514;
  } else {
    return std::nullopt;  // unix, ext: nothing to check over TCP
  }
  return std::make_pair(p->host, port);
}

std::string unattended_uri(const std::string& uri) {
  const auto p = parse_uri(uri);
  if (!p || p->transport != "ssh" || p->params.count("no_tty")) return uri;
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "no_tty=1";
}

}  // namespace numasoak::vm::libvirt
