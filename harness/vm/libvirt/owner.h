// Ownership of domains: who started a numasoak-* domain, and whether it may
// be destroyed as an orphan.
//
// Every domain carries an OwnerTag (see domain_xml.h). A later backend start
// destroys a numasoak-* domain only when its tag says it was started from
// this machine by a numasoak process that no longer exists (or by a
// connection of this process that is closed or lost track of it). Domains
// without a tag, with another machine's tag, or owned by a live process are
// left alone.
#pragma once

#include <optional>
#include <string>

#include "vm/libvirt/domain_xml.h"

namespace numasoak::vm::libvirt {

// This process's tag for a connection to `uri` with id `instance`.
OwnerTag self_owner(const std::string& uri, const std::string& instance);

// Whether process `pid` exists and started at `start` (guards against reuse).
bool process_alive(long pid, const std::string& start);
// /proc/<pid>/stat starttime, "" when there is no such process.
std::string process_start_time(long pid);

// Per-connection ids: a fresh random id, and the set of ids of connection
// objects alive in this process.
std::string new_instance_id();
void register_instance(const std::string& id);
void unregister_instance(const std::string& id);
bool instance_live(const std::string& id);

/// Facts about one domain's owner, gathered by the caller.
struct OwnerFacts {
  bool owner_process_alive = false;  // process_alive(tag.pid, tag.start)
  bool instance_live = false;        // instance_live(tag.instance)
  bool tracked_here = false;         // the connection asking runs it right now
};

// Why the domain is an orphan the connection `me` should destroy, or
// nullopt when it must be left alone.
std::optional<std::string> orphan_reason(const OwnerTag& tag, const OwnerTag& me, const OwnerFacts& facts);

// A short tag naming this machine and boot, for temporary volume names.
std::string machine_tag();

}  // namespace numasoak::vm::libvirt
