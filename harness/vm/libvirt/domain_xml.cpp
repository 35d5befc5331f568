#include "vm/libvirt/domain_xml.h"

#include <fmt/format.h>
#include <map>
#include <regex>

namespace numasoak::vm::libvirt {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&apos;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_unescape(std::string_view s) {
  static const std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}, {"&quot;", '"'}};
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool matched = false;
    if (s[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (s.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size();
          matched = true;
          break;
        }
      }
    }
    if (!matched) out += s[i++];
  }
  return out;
}

std::string libvirt_numa_xml(const Topology& t) {
  std::string x = "    <numa>\n";
  const int n = static_cast<int>(t.nodes.size());
  for (int i = 0; i < n; ++i) {
    const int first = t.first_cpu(i);
    const int last = first + t.nodes[i].cpus - 1;
    const std::string cpus = first == last ? fmt::format("{}", first) : fmt::format("{}-{}", first, last);
    x += fmt::format("      <cell id='{}' cpus='{}' memory='{}' unit='KiB'>\n", i, cpus, t.nodes[i].memory.value / 1024);
    x += "        <distances>\n";
    for (int j = 0; j < n; ++j) x += fmt::format("          <sibling id='{}' value='{}'/>\n", j, t.distance(i, j));
    x += "        </distances>\n";
    x += "      </cell>\n";
  }
  x += "    </numa>\n";
  return x;
}

std::string render_owner_xml(const OwnerTag& o) {
  return fmt::format("<numasoak:owner xmlns:numasoak='{}' pid='{}' start='{}' host='{}' boot_id='{}' uri='{}' instance='{}'/>",
                     kOwnerNamespace, o.pid, xml_escape(o.start), xml_escape(o.host), xml_escape(o.boot_id),
                     xml_escape(o.uri), xml_escape(o.instance));
}

std::optional<OwnerTag> parse_owner_xml(std::string_view xml) {
  // virDomainGetMetadata hands the element back re-serialised: without its
  // prefix and namespace, double quotes. Read the element name and the
  // attributes, not the text.
  const std::string s(xml);
  static const std::regex kElement(R"re(^\s*<([A-Za-z_][A-Za-z0-9_.-]*:)?owner[\s/>])re");
  if (!std::regex_search(s, kElement)) return std::nullopt;
  static const std::regex kAttr(R"re(([A-Za-z_][A-Za-z0-9_:.-]*)\s*=\s*("([^"]*)"|'([^']*)'))re");
  std::map<std::string, std::string> attrs;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kAttr); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    attrs[m[1].str()] = xml_unescape(m[3].matched ? m[3].str() : m[4].str());
  }
  for (const auto& [name, value] : attrs) {
    if (name.rfind("xmlns", 0) == 0 && value != kOwnerNamespace) return std::nullopt;
  }
  OwnerTag o;
  try {
    o.pid = std::stol(attrs.at("pid"));
  } catch (...) {
    return std::nullopt;
  }
  o.start = attrs["start"];
  o.host = attrs["host"];
  o.boot_id = attrs["boot_id"];
  o.uri = attrs["uri"];
  o.instance = attrs["instance"];
  if (o.pid <= 0 || o.host.empty() || o.boot_id.empty()) return std::nullopt;
  return o;
}

std::string render_domain_xml(const DomainXmlParams& p) {
  const Topology& t = p.topology;
  std::string x;
  x += fmt::format("<domain type='{}'>\n", p.kvm ? "kvm" : "qemu");
  x += fmt::format("  <name>{}</name>\n", xml_escape(p.name));
  if (p.owner) x += fmt::format("  <metadata>\n    {}\n  </metadata>\n", render_owner_xml(*p.owner));
  x += fmt::format("  <memory unit='KiB'>{}</memory>\n", t.total_memory().value / 1024);
  x += fmt::format("  <vcpu placement='static'>{}</vcpu>\n", t.total_cpus());
  x += "  <os>\n";
  x += fmt::format("    <type arch='x86_64' machine='{}'>hvm</type>\n", xml_escape(p.machine));
  x += fmt::format("    <kernel>{}</kernel>\n", xml_escape(p.kernel));
  x += fmt::format("    <initrd>{}</initrd>\n", xml_escape(p.initrd));
  x += fmt::format("    <cmdline>{}</cmdline>\n", xml_escape(p.cmdline));
  x += "  </os>\n";
  // ACPI carries the NUMA layout to the guest (SRAT, SLIT).
  x += "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n";
  // As on the QEMU command line: -cpu host under KVM, QEMU's default model
  // under TCG; one socket per vCPU (-smp N,sockets=N).
  x += p.kvm ? "  <cpu mode='host-passthrough' check='none'>\n" : "  <cpu>\n";
  x += fmt::format("    <topology sockets='{}' dies='1' cores='1' threads='1'/>\n", t.total_cpus());
  x += libvirt_numa_xml(t);
  x += "  </cpu>\n";
  x += "  <clock offset='utc'/>\n";
  // panic=-1 reboots at once; destroying on reboot is -no-reboot.
  x += "  <on_poweroff>destroy</on_poweroff>\n";
  x += "  <on_reboot>destroy</on_reboot>\n";
  x += "  <on_crash>destroy</on_crash>\n";
  x += "  <devices>\n";
  x += "    <serial type='pty'>\n      <target type='isa-serial' port='0'/>\n    </serial>\n";  // ttyS0: console
  x += "    <serial type='pty'>\n      <target type='isa-serial' port='1'/>\n    </serial>\n";  // ttyS1: agent
  x += "    <panic model='isa'/>\n";  // pvpanic
  x += "    <controller type='usb' model='none'/>\n";
  x += "    <memballoon model='none'/>\n";
  x += "  </devices>\n";
  x += "</domain>\n";
  return x;
}

}  // namespace numasoak::vm::libvirt
