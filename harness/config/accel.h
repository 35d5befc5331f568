// The accelerator, one enum for what a campaign asks for and what a guest
// gets: kAuto (KVM where it works, decided by vm/accel_probe.h) is only ever
// asked for; a running guest is kKvm or kTcg.
#pragma once

namespace numasoak {

/// KVM, TCG, or KVM where it works (asked for only).
enum class Accel { kAuto, kKvm, kTcg };

/// "auto", "kvm", "tcg": the campaign key's values and what runs record.
const char* to_string(Accel a);

}  // namespace numasoak
