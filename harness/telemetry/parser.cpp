#include "telemetry/parser.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace numasoak::telemetry {

namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxUptimeMs = std::int64_t{10} * 365 * 24 * 3600 * 1000;  // ten years
constexpr std::size_t kMaxSettings = 256;

// A field that is present but malformed makes the whole line a parse error.
struct BadField {
  std::string what;
};

const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::int64_t get_int(const json& j, const char* key, std::int64_t lo, std::int64_t hi, std::int64_t def,
                     bool required = false) {
  const json* f = field(j, key);
  if (!f) {
    if (required) throw BadField{std::string(key) + " missing"};
    return def;
  }
  if (!f->is_number_integer()) throw BadField{std::string(key) + " is not an integer"};
  std::int64_t v = 0;
  if (f->is_number_unsigned()) {
    const auto u = f->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw BadField{std::string(key) + " out of range"};
    v = static_cast<std::int64_t>(u);
  } else {
    v = f->get<std::int64_t>();
  }
  if (v < lo || v > hi) throw BadField{std::string(key) + " out of range"};
  return v;
}

std::uint64_t get_count(const json& v, std::string_view key) {
  if (!v.is_number_unsigned()) {
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    throw BadField{std::string(key) + " is not a count"};
  }
  return v.get<std::uint64_t>();
}

std::string get_text(const json& j, const char* key, std::size_t max, bool required = false) {
  const json* f = field(j, key);
  if (!f) {
    if (required) throw BadField{std::string(key) + " missing"};
    return "";
  }
  if (!f->is_string()) throw BadField{std::string(key) + " is not a string"};
  return sanitize_text(f->get_ref<const std::string&>(), max);
}

Duration get_ms(const json& j, const char* key, bool required = false) {
  return Duration{get_int(j, key, 0, kMaxUptimeMs, 0, required)};
}

int get_small(const json& j, const char* key, int lo, int hi, int def) {
  return static_cast<int>(get_int(j, key, lo, hi, def));
}

std::uint64_t parse_addr(const json& j) {
  const json* f = field(j, "addr");
  if (!f) return 0;
  if (f->is_number_unsigned()) return f->get<std::uint64_t>();
  if (!f->is_string()) throw BadField{"addr is not a string"};
  const std::string& s = f->get_ref<const std::string&>();
  std::size_t i = (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
  if (i == s.size() || s.size() - i > 16) throw BadField{"addr is not a 64-bit hex number"};
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) throw BadField{"addr is not a 64-bit hex number"};
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

void read_group(const json& j, const char* key, CounterGroup group, Heartbeat& hb) {
  const json* f = field(j, key);
  if (!f) return;
  if (!f->is_object()) throw BadField{std::string(key) + " is not an object"};
  for (auto it = f->begin(); it != f->end(); ++it) {
    const auto c = find_counter(group, it.key());
    if (!c) continue;  // a newer guest's counter: ignored
    hb.delta[c->index] = get_count(it.value(), it.key());
    hb.present[c->index] = true;
  }
}

Started parse_started(const json& j) {
  Started m;
  m.protocol = get_small(j, "v", 0, 1000000, 0);
  m.uptime = get_ms(j, "uptime_ms");
  m.kernel = get_text(j, "kernel", 128);
  m.nodes = get_small(j, "nodes", 0, 4096, 0);
  m.cpus = get_small(j, "cpus", 0, 1 << 20, 0);
  m.thp = get_text(j, "thp", 32);
  m.profile = get_text(j, "profile", 64);
  m.numa_balancing = get_small(j, "numa_balancing", -1, 1000, -1);
  m.race_widen_us = get_small(j, "race_widen_us", -1, 1000000000, -1);
  m.race_widen_uffd_us = get_small(j, "race_widen_uffd_us", -1, 1000000000, -1);
  if (const json* s = field(j, "settings")) {
    if (!s->is_object()) throw BadField{"settings is not an object"};
    for (auto it = s->begin(); it != s->end() && m.settings.size() < kMaxSettings; ++it) {
      if (!it.value().is_string()) throw BadField{"settings." + sanitize_text(it.key(), 64) + " is not a string"};
      m.settings[sanitize_text(it.key(), 64)] = sanitize_text(it.value().get_ref<const std::string&>(), 128);
    }
  }
  return m;
}

Heartbeat parse_heartbeat(const json& j) {
  Heartbeat m;
  m.seq = static_cast<std::uint64_t>(get_int(j, "seq", 0, std::numeric_limits<std::int64_t>::max(), 0));
  m.uptime = get_ms(j, "uptime_ms");
  m.interval = Duration{get_int(j, "dt_ms", 0, std::int64_t{24} * 3600 * 1000, 0, true)};
  read_group(j, "vmstat", CounterGroup::kVmstat, m);
  read_group(j, "ops", CounterGroup::kOps, m);
  read_group(j, "kernel", CounterGroup::kKernel, m);
  return m;
}

IntegrityError parse_integrity(const json& j) {
  IntegrityError m;
  m.worker = get_small(j, "worker", -1, 1 << 20, -1);
  m.addr = parse_addr(j);
  m.pages = static_cast<std::uint64_t>(get_int(j, "pages", 1, std::int64_t{1} << 40, 0, true));
  m.node = get_small(j, "node", -1, 1 << 20, -1);
  m.zero = get_text(j, "kind", 16) == "zero";
  m.uptime = get_ms(j, "uptime_ms");
  return m;
}

ProtectionError parse_protection(const json& j) {
  ProtectionError m;
  m.worker = get_small(j, "worker", -1, 1 << 20, -1);
  m.addr = parse_addr(j);
  m.how = get_text(j, "how", 16);
  m.memory = get_text(j, "memory", 16);
  m.scenario = get_text(j, "scenario", 16);
  m.node = get_small(j, "node", -1, 1 << 20, -1);
  m.uptime = get_ms(j, "uptime_ms");
  return m;
}

// "cells": {"wp_resolve.split.shmem": 3, ...}; unknown cell names are
// ignored, like unknown counters.
Matrix parse_matrix(const json& j) {
  Matrix m;
  m.seq = static_cast<std::uint64_t>(get_int(j, "seq", 0, std::numeric_limits<std::int64_t>::max(), 0));
  m.uptime = get_ms(j, "uptime_ms");
  const json* cells = field(j, "cells");
  if (!cells || !cells->is_object()) return m;
  for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
    for (std::size_t t = 0; t < proto::kTransitions.size(); ++t)
      for (std::size_t k = 0; k < proto::kMemory.size(); ++k) {
        const std::string name = std::string(proto::kWalkers[w]) + "." + std::string(proto::kTransitions[t]) + "." +
                                 std::string(proto::kMemory[k]);
        m.delta[proto::matrix_cell(w, t, k)] =
            static_cast<std::uint64_t>(get_int(*cells, name.c_str(), 0, std::int64_t{1} << 50, 0));
      }
  return m;
}

Finished parse_finished(const json& j) {
  Finished m;
  m.status = get_text(j, "status", 32, true);
  m.exit_code = get_small(j, "exit_code", -1, 255, -1);
  m.integrity_events = static_cast<std::uint64_t>(get_int(j, "integrity_events", 0, std::int64_t{1} << 50, 0));
  m.integrity_pages = static_cast<std::uint64_t>(get_int(j, "integrity_pages", 0, std::int64_t{1} << 50, 0));
  m.uptime = get_ms(j, "uptime_ms");
  return m;
}

}  // namespace

std::string sanitize_text(std::string_view s, std::size_t max) {
  if (s.size() > max) {
    s = s.substr(0, max);
    // Do not end inside a UTF-8 sequence: find where the last one starts and
    // drop it if the cut left it incomplete.
    std::size_t lead = s.size();
    while (lead > 0 && (static_cast<unsigned char>(s[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
      const auto c = static_cast<unsigned char>(s[lead - 1]);
      const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (s.size() - (lead - 1) < need) s = s.substr(0, lead - 1);
    }
  }
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

std::optional<Message> AgentParser::parse(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\r')) line.remove_prefix(1);
  if (line.empty()) return std::nullopt;
  ++stats_.lines;
  auto reject = [this](std::string why) -> std::optional<Message> {
    ++stats_.errors;
    last_error_ = std::move(why);
    return std::nullopt;
  };
  if (line.size() > kMaxAcceptedLine) {
    ++stats_.too_long;
    return reject("line longer than " + std::to_string(kMaxAcceptedLine) + " bytes");
  }
  try {
    const json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return reject("not JSON");
    if (!j.is_object()) return reject("not a JSON object");
    const json* t = field(j, "type");
    if (!t || !t->is_string()) return reject("no \"type\" string");
    const std::string& type = t->get_ref<const std::string&>();
    std::optional<Message> m;
    if (type == proto::type::kStarted) {
      m = parse_started(j);
    } else if (type == proto::type::kHeartbeat) {
      m = parse_heartbeat(j);
    } else if (type == proto::type::kIntegrityError) {
      m = parse_integrity(j);
    } else if (type == proto::type::kProtectionError) {
      m = parse_protection(j);
    } else if (type == proto::type::kMatrix) {
      m = parse_matrix(j);
    } else if (type == proto::type::kConfigError) {
      m = ConfigError{get_text(j, "reason", kMaxText, true), get_ms(j, "uptime_ms")};
    } else if (type == proto::type::kWarning) {
      m = Warning{get_text(j, "reason", kMaxText, true), get_ms(j, "uptime_ms")};
    } else if (type == proto::type::kFinished) {
      m = parse_finished(j);
    } else {
      ++stats_.unknown_types;
      return std::nullopt;
    }
    ++stats_.parsed;
    return m;
  } catch (const BadField& e) {
    return reject(e.what);
  } catch (const std::exception& e) {
    return reject(std::string("malformed: ") + e.what());
  }
}

}  // namespace numasoak::telemetry
