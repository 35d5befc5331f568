#include "run/agent_feed.h"

#include <fmt/format.h>
#include <type_traits>

namespace numasoak {

namespace t = telemetry;

AgentFeed::Events AgentFeed::feed(std::string_view bytes, double host_s) {
  Events ev;
  lines_.feed(bytes, [&](std::string_view line) {
    auto msg = telemetry_.feed(line);
    if (!msg) return;
    std::visit(
        [&](const auto& m) {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, t::Started>) {
            ev.started = true;
          } else if constexpr (std::is_same_v<M, t::IntegrityError>) {
            FailureRecord f;
            f.kind = kinds::kIntegrity;
            f.title = m.zero ? "memory silently lost (pages read zero)" : "memory corrupted (pages read back wrong)";
            f.host_s = host_s;
            f.uptime_s = seconds(m.uptime);
            f.report = fmt::format("integrity error: {} page{} at {:#x} on node {} ({}), worker {}, guest uptime {:.3f}s\n",
                                   m.pages, m.pages == 1 ? "" : "s", m.addr, m.node, m.zero ? "read zero" : "corrupt",
                                   m.worker, seconds(m.uptime));
            ev.integrity.push_back(std::move(f));
          } else if constexpr (std::is_same_v<M, t::ProtectionError>) {
            FailureRecord f;
            f.kind = kinds::kProtection;
            f.title = m.how == nsw::protocol::protection::kProtRead
                          ? fmt::format("write to a PROT_READ {} page went through", m.memory)
                          : fmt::format("write to a uffd-write-protected {} page did not trap ({})", m.memory, m.scenario);
            f.host_s = host_s;
            f.uptime_s = seconds(m.uptime);
            f.report = fmt::format("protection error: {} at {:#x} ({} memory, block {} when protected) on node {}, worker {}, "
                                   "guest uptime {:.3f}s\n",
                                   f.title, m.addr, m.memory, m.scenario, m.node, m.worker, seconds(m.uptime));
            ev.integrity.push_back(std::move(f));
          } else if constexpr (std::is_same_v<M, t::ConfigError>) {
            ev.config_error = m.reason;
          } else if constexpr (std::is_same_v<M, t::Warning>) {
            ev.warnings.push_back(m.reason);
          } else if constexpr (std::is_same_v<M, t::Finished>) {
            ev.finished_status = m.exit_code;
          }
        },
        *msg);
  });
  return ev;
}

std::map<std::string, double> AgentFeed::totals() const {
  std::map<std::string, double> out;
  const auto s = telemetry_.summary();
  for (std::size_t i = 0; i < t::kCounterCount; ++i) {
    if (s.counters[i].present) out[std::string(t::counter_name(t::Counter{i}))] = static_cast<double>(s.counters[i].total);
  }
  out["integrity_events"] = static_cast<double>(s.integrity_events);
  out["integrity_pages"] = static_cast<double>(s.integrity_pages);
  out["protection_events"] = static_cast<double>(s.protection_events);
  for (const auto& [cell, n] : matrix()) out["matrix." + cell] = n;
  out["heartbeats"] = static_cast<double>(s.heartbeats);
  out["race_events"] = race_events_total();
  return out;
}

std::map<std::string, double> AgentFeed::rates() const {
  std::map<std::string, double> out;
  const auto s = telemetry_.summary();
  for (std::size_t i = 0; i < t::kCounterCount; ++i) {
    if (s.counters[i].present) out[std::string(t::counter_name(t::Counter{i}))] = s.counters[i].per_second;
  }
  out["race_events"] = race_events_per_s();
  // Co-location (the guest's workload/colocation.h): per heartbeat interval
  // of dt seconds the guest sends 1000 x sum over PMDs of walks x
  // migrations; divided by dt^2 that is walk x migration pairs on one PMD
  // per second, per second of race window: the expected coincidences per
  // second are this times the window's width.
  if (s.heartbeats > 0 && s.covered > Duration(0) && s.counters[t::counters::colo_mpairs().index].present) {
    const double covered = std::chrono::duration<double>(s.covered).count();
    const double dt = covered / static_cast<double>(s.heartbeats);
    const double per = 1.0 / (1000.0 * covered * dt);
    out["colocated_pairs"] = static_cast<double>(telemetry_.total(t::counters::colo_mpairs())) * per;
    out["colocated_pairs_inferred"] = static_cast<double>(telemetry_.total(t::counters::colo_hint_mpairs())) * per;
  }
  return out;
}

double AgentFeed::race_events_per_s() const {
  return telemetry_.rate(t::counters::numa_huge_pte_updates()) + telemetry_.rate(t::counters::thp_migration_success()) +
         telemetry_.rate(t::counters::uffd_wp_ioctls());
}

double AgentFeed::race_events_total() const {
  return static_cast<double>(telemetry_.total(t::counters::numa_huge_pte_updates()) +
                             telemetry_.total(t::counters::thp_migration_success()) +
                             telemetry_.total(t::counters::uffd_wp_ioctls()));
}

std::map<std::string, double> AgentFeed::matrix() const {
  namespace proto = nsw::protocol;
  std::map<std::string, double> out;
  const auto s = telemetry_.summary();
  if (!s.matrix_seen) return out;
  for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
    for (std::size_t tr = 0; tr < proto::kTransitions.size(); ++tr)
      for (std::size_t k = 0; k < proto::kMemory.size(); ++k)
        out[fmt::format("{}.{}.{}", proto::kWalkers[w], proto::kTransitions[tr], proto::kMemory[k])] =
            static_cast<double>(s.matrix[proto::matrix_cell(w, tr, k)]);
  return out;
}

bool AgentFeed::saw_heartbeat() const { return telemetry_.summary().heartbeats > 0; }

}  // namespace numasoak
