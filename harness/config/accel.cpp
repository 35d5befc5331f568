#include "config/accel.h"

namespace numasoak {

const char* to_string(Accel a) {
  switch (a) {
    case Accel::kAuto: return "auto";
    case Accel::kKvm: return "kvm";
    case Accel::kTcg: return "tcg";
  }
  return "?";
}

}  // namespace numasoak
