// The flags that say what guest to run and how, shared by the verbs that
// run guests without a campaign of their own (`run`, `bisect`): a campaign
// file's settings (-c, or the defaults) with the flags on top, validated by
// the same loader as a campaign file.
#pragma once

#include "cli/command.h"
#include <optional>
#include <string>
#include <vector>

#include "config/campaign.h"

namespace numasoak::cli {

/// -c/--campaign, --duration, --profile, --knob, --accel, --amplify-us(-uffd), --nodes, --cpus-per-node, --memory.
struct GuestFlags {
  std::string campaign;
  std::string duration;
  std::string profile;
  std::string accel;
  std::vector<std::string> knobs;
  std::optional<int> amplify_us;  // unset: the campaign's value
  std::optional<int> amplify_uffd_us;
  int nodes = 0;
  int cpus_per_node = 0;
  std::string memory;
};

// Adds the flags to `cmd`, bound to `f` (which must outlive the parse).
void add_guest_flags(Command& cmd, GuestFlags& f);

// The campaign the flags describe; a usage Error naming the flag otherwise.
Campaign campaign_from_flags(const GuestFlags& a);

}  // namespace numasoak::cli
