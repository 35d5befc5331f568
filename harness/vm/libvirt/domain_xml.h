// The libvirt domain XML of a numasoak guest, rendered from the one Topology.
//
// Pure functions (unit-tested without a daemon). The domain mirrors what
// QemuBackend builds on a command line: the NUMA cells and distances, direct
// kernel boot, the console on ttyS0 and the agent channel on ttyS1 (two pty
// serials, opened as streams "serial0"/"serial1"), a pvpanic device
// (<panic model='isa'/>), and destroy on poweroff/reboot/crash, which is
// libvirt's -no-reboot + panic=-1. An owner tag in <metadata> lets a later
// numasoak find and remove domains whose harness died.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "topology/topology.h"

namespace numasoak::vm::libvirt {

inline constexpr const char* kOwnerNamespace = "https://numasoak.invalid/1";

/// Who started a domain: the numasoak process (pid + its start time, so a
/// reused pid does not count), the machine it runs on, that machine's boot,
/// and the connection (URI + per-connection instance id).
struct OwnerTag {
  long pid = 0;
  std::string start;     // /proc/<pid>/stat starttime (clock ticks since boot)
  std::string host;      // gethostname() of the harness machine
  std::string boot_id;   // /proc/sys/kernel/random/boot_id of that machine
  std::string uri;       // the libvirt URI the harness used
  std::string instance;  // random id of the connection object

  bool operator==(const OwnerTag&) const = default;
};

/// What render_domain_xml() needs for one transient domain.
struct DomainXmlParams {
  std::string name;
  Topology topology;
  bool kvm = false;          // type 'kvm' with the host CPU, else 'qemu' (TCG)
  std::string kernel;        // paths on the libvirt host
  std::string initrd;
  std::string cmdline;       // complete; see backend_cmdline()
  std::string machine = "pc";
  std::optional<OwnerTag> owner;
};

std::string render_domain_xml(const DomainXmlParams& p);

// <numa> with one <cell> per node (CPUs numbered node by node, memory in
// KiB) and every node's <distances>.
std::string libvirt_numa_xml(const Topology& t);

// The <numasoak:owner .../> element, and back (from virDomainGetMetadata).
std::string render_owner_xml(const OwnerTag& o);
std::optional<OwnerTag> parse_owner_xml(std::string_view xml);

// XML text escaping for attribute values and element text, and back.
std::string xml_escape(std::string_view s);
std::string xml_unescape(std::string_view s);

}  // namespace numasoak::vm::libvirt
