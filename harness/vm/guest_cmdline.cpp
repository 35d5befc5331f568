#include "vm/guest_cmdline.h"

namespace numasoak::vm {

std::string backend_cmdline(const std::string& extra) {
  // console=ttyS0: the kernel console is the first serial port; panic=-1:
  // reboot at once on panic, which -no-reboot turns into a QEMU exit.
  // no_timer_check: under a loaded host TCG can fail the IO-APIC timer
  // check and panic at boot ("IO-APIC + timer doesn't work!"), which is the
  // host's fault, not the kernel's.
  std::string out = "console=ttyS0,115200 panic=-1 printk.time=1 no_timer_check";
  if (!extra.empty()) out += " " + extra;
  return out;
}

}  // namespace numasoak::vm
