// The libvirt domain XML numasoak renders: the NUMA cells and distances from
// the one Topology, direct kernel boot, pvpanic, the two serial ports, the
// destroy-on-everything lifecycle, qemu vs kvm, and the owner tag. Pure.
#include <gtest/gtest.h>

#include "vm/libvirt/domain_xml.h"

using namespace numasoak;
using namespace numasoak::vm::libvirt;

namespace {

bool has(const std::string& xml, const std::string& needle) { return xml.find(needle) != std::string::npos; }

DomainXmlParams params(bool kvm) {
  DomainXmlParams p;
  p.name = "numasoak-default-6.1-3";
  p.topology.nodes = {NumaNode{1, MiB(512)}, NumaNode{1, MiB(512)}};
  p.kvm = kvm;
  p.kernel = "/var/lib/libvirt/numasoak/abc.bzImage";
  p.initrd = "/var/lib/libvirt/numasoak/def.initramfs";
  p.cmdline = "console=ttyS0,115200 panic=-1 printk.time=1 nsw.profile=bad-pmd";
  p.owner = OwnerTag{4242, "12345", "builder", "boot-1", "qemu+ssh://root@h/system?keyfile=/k&no_verify=1", "a1b2"};
  return p;
}

}  // namespace

TEST(LibvirtDomainXml, TwoNodeCellsWithDistances) {
  const std::string x = render_domain_xml(params(false));
  EXPECT_TRUE(has(x, "<memory unit='KiB'>1048576</memory>")) << x;
  EXPECT_TRUE(has(x, "<vcpu placement='static'>2</vcpu>"));
  EXPECT_TRUE(has(x, "<cell id='0' cpus='0' memory='524288' unit='KiB'>"));
  EXPECT_TRUE(has(x, "<cell id='1' cpus='1' memory='524288' unit='KiB'>"));
  EXPECT_TRUE(has(x, "<sibling id='0' value='10'/>"));
  EXPECT_TRUE(has(x, "<sibling id='1' value='20'/>"));
  EXPECT_TRUE(has(x, "<topology sockets='2' dies='1' cores='1' threads='1'/>"));
  // ACPI carries SRAT/SLIT to the guest.
  EXPECT_TRUE(has(x, "<acpi/>"));
}

TEST(LibvirtDomainXml, CpuRangesAndCustomDistances) {
  Topology t;
  t.nodes = {NumaNode{2, MiB(1024)}, NumaNode{3, MiB(2048)}, NumaNode{1, MiB(256)}};
  t.distances = {{10, 21, 31}, {21, 10, 17}, {31, 17, 10}};
  const std::string n = libvirt_numa_xml(t);
  EXPECT_TRUE(has(n, "<cell id='0' cpus='0-1' memory='1048576' unit='KiB'>")) << n;
  EXPECT_TRUE(has(n, "<cell id='1' cpus='2-4' memory='2097152' unit='KiB'>"));
  EXPECT_TRUE(has(n, "<cell id='2' cpus='5' memory='262144' unit='KiB'>"));
  // Row 1 of the matrix, in order.
  EXPECT_TRUE(has(n, "<cell id='1' cpus='2-4' memory='2097152' unit='KiB'>\n        <distances>\n"
                     "          <sibling id='0' value='21'/>\n          <sibling id='1' value='10'/>\n"
                     "          <sibling id='2' value='17'/>"));
  DomainXmlParams p = params(false);
  p.topology = t;
  const std::string x = render_domain_xml(p);
  EXPECT_TRUE(has(x, "<memory unit='KiB'>3407872</memory>"));  // the sum of the cells
  EXPECT_TRUE(has(x, "<vcpu placement='static'>6</vcpu>"));
}

TEST(LibvirtDomainXml, DirectKernelBootPanicAndSerials) {
  const std::string x = render_domain_xml(params(false));
  EXPECT_TRUE(has(x, "<type arch='x86_64' machine='pc'>hvm</type>"));
  EXPECT_TRUE(has(x, "<kernel>/var/lib/libvirt/numasoak/abc.bzImage</kernel>"));
  EXPECT_TRUE(has(x, "<initrd>/var/lib/libvirt/numasoak/def.initramfs</initrd>"));
  EXPECT_TRUE(has(x, "<cmdline>console=ttyS0,115200 panic=-1 printk.time=1 nsw.profile=bad-pmd</cmdline>"));
  EXPECT_TRUE(has(x, "<panic model='isa'/>"));
  EXPECT_TRUE(has(x, "<target type='isa-serial' port='0'/>"));
  EXPECT_TRUE(has(x, "<target type='isa-serial' port='1'/>"));
  EXPECT_EQ(x.find("<serial type='pty'>"), x.find("<serial type='pty'>"));
  EXPECT_NE(x.find("<serial type='pty'>", x.find("<serial type='pty'>") + 1), std::string::npos) << "two serial ports";
  EXPECT_TRUE(has(x, "<on_poweroff>destroy</on_poweroff>"));
  EXPECT_TRUE(has(x, "<on_reboot>destroy</on_reboot>"));
  EXPECT_TRUE(has(x, "<on_crash>destroy</on_crash>"));
  EXPECT_FALSE(has(x, "<interface")) << "no network";
}

TEST(LibvirtDomainXml, QemuOrKvm) {
  const std::string tcg = render_domain_xml(params(false));
  EXPECT_TRUE(has(tcg, "<domain type='qemu'>"));
  EXPECT_FALSE(has(tcg, "host-passthrough"));
  const std::string kvm = render_domain_xml(params(true));
  EXPECT_TRUE(has(kvm, "<domain type='kvm'>"));
  EXPECT_TRUE(has(kvm, "<cpu mode='host-passthrough'"));
}

TEST(LibvirtDomainXml, TextIsEscaped) {
  DomainXmlParams p = params(false);
  p.cmdline = "a=<b> & c='d'";
  p.initrd = "/x/it's & <odd>";
  const std::string x = render_domain_xml(p);
  EXPECT_TRUE(has(x, "<cmdline>a=&lt;b&gt; &amp; c=&apos;d&apos;</cmdline>")) << x;
  EXPECT_TRUE(has(x, "<initrd>/x/it&apos;s &amp; &lt;odd&gt;</initrd>"));
  EXPECT_EQ(xml_unescape(xml_escape("a<&>'\"b")), "a<&>'\"b");
}

TEST(LibvirtDomainXml, OwnerTagRoundTrips) {
  const DomainXmlParams p = params(false);
  const std::string x = render_domain_xml(p);
  EXPECT_TRUE(has(x, "<metadata>"));
  EXPECT_TRUE(has(x, "xmlns:numasoak='https://numasoak.invalid/1'"));
  EXPECT_TRUE(has(x, "uri='qemu+ssh://root@h/system?keyfile=/k&amp;no_verify=1'"));
  auto back = parse_owner_xml(render_owner_xml(*p.owner));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *p.owner);
  // libvirt hands the element back re-serialised: double quotes, other prefix.
  auto relabelled = parse_owner_xml(
      "<ns:owner xmlns:ns=\"https://numasoak.invalid/1\" pid=\"77\" start=\"9\" host=\"h\" boot_id=\"b\" "
      "uri=\"qemu:///system\" instance=\"i\"/>");
  ASSERT_TRUE(relabelled.has_value());
  EXPECT_EQ(relabelled->pid, 77);
  EXPECT_EQ(relabelled->uri, "qemu:///system");
  // ... or bare, as virDomainGetMetadata returns it (measured, libvirt 9.0).
  auto bare = parse_owner_xml("<owner pid=\"5\" start=\"2\" host=\"h\" boot_id=\"b\" uri=\"qemu:///system?a=1&amp;b=2\" instance=\"i\"/>\n");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->uri, "qemu:///system?a=1&b=2");
  EXPECT_FALSE(parse_owner_xml("<other xmlns='https://example.org' pid='1' host='h' boot_id='b'/>").has_value());
  EXPECT_FALSE(parse_owner_xml("<x:owner xmlns:x='https://example.org' pid='1' host='h' boot_id='b'/>").has_value());
  EXPECT_FALSE(parse_owner_xml("<numasoak:owner xmlns:numasoak='https://numasoak.invalid/1' host='h'/>").has_value());
}
