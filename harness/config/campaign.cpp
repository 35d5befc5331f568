#include "config/campaign.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "common/paths.h"
#include "config/toml_reader.h"

namespace numasoak {

namespace fs = std::filesystem;

const char* to_string(BackendKind b) { return b == BackendKind::kQemu ? "qemu" : "libvirt"; }

Duration Campaign::planned_guest_time() const {
  return duration * (runs_per_kernel * static_cast<int>(arms().size()));
}

std::string sweep_arm_name(const std::string& kernel, int width_us) {
  return width_us == 0 ? kernel + "@off" : fmt::format("{}@{}us", kernel, width_us);
}

std::vector<CampaignArm> Campaign::arms() const {
  std::vector<CampaignArm> out;
  for (const auto& k : kernel_names) {
    if (!is_sweep()) {
      out.push_back({k, k, std::nullopt});
      continue;
    }
    for (const int w : sweep_amplify_us) out.push_back({sweep_arm_name(k, w), k, w});
  }
  return out;
}

std::optional<CampaignArm> Campaign::arm(const std::string& arm_name) const {
  for (auto& a : arms()) {
    if (a.name == arm_name) return a;
  }
  return std::nullopt;
}

// ---- the loader -----------------------------------------------------------

namespace {

/// The campaign and kernel-library schema, read through a TomlReader.
class Loader : public TomlReader {
 public:
  using TomlReader::TomlReader;

  // [kernel."NAME"] tables, in a campaign file or the kernel library.
  void load_kernels(const toml::table& root, std::map<std::string, KernelSpec>& out) {
    const toml::table* kt = get_table(root, "", "kernel");
    if (!kt) return;
    for (auto&& [k, v] : *kt) {
      const std::string name(k.str());
      const std::string prefix = "kernel." + name;
      const toml::table* t = v.as_table();
      if (!t) {
        type_issue(v, prefix, "a table");
        continue;
      }
      check_keys(*t, prefix, {"source", "patches", "fragments", "amplifier", "debug", "description"});
      KernelSpec spec;
      spec.name = name;
      spec.where = loc_or(t, loc_key(k));
      spec.fragments = {"numasoak-guest"};
      auto source = get_string(*t, prefix, "source");
      if (!source) {
        if (!t->get("source")) issue_at(spec.where, prefix + ".source", "required key is missing",
                                        "e.g. source = \"debian:linux-source-6.1\"");
        continue;
      }
      const toml::node* sn = t->get("source");
      if (source->rfind("debian:", 0) == 0) {
        spec.kind = KernelSourceKind::kDebianSource;
        spec.package = source->substr(7);
      } else if (source->rfind("debian-image:", 0) == 0) {
        spec.kind = KernelSourceKind::kDebianImage;
        spec.package = source->substr(13);
      } else {
        spec.path = resolve(*source);
        std::error_code ec;
        if (fs::is_directory(spec.path, ec)) {
          spec.kind = KernelSourceKind::kTree;
        } else if (fs::is_regular_file(spec.path, ec)) {
          spec.kind = KernelSourceKind::kBzImage;
        } else {
          issue(sn, prefix + ".source", fmt::format("{} does not exist", spec.path.string()),
                "use debian:<package>, debian-image:<package>, a kernel tree or a bzImage path");
          continue;
        }
      }
      if ((spec.kind == KernelSourceKind::kDebianSource || spec.kind == KernelSourceKind::kDebianImage) &&
          spec.package.empty()) {
        issue(sn, prefix + ".source", "names no Debian package", "e.g. debian:linux-source-6.1");
        continue;
      }
      if (auto p = get_string_array(*t, prefix, "patches")) spec.patches = *p;
      if (auto f = get_string_array(*t, prefix, "fragments")) spec.fragments = *f;
      if (auto a = get_bool(*t, prefix, "amplifier")) spec.amplifier = *a;
      if (auto d = get_bool(*t, prefix, "debug")) spec.debug = *d;
      if (auto d = get_string(*t, prefix, "description")) spec.description = *d;
      if (!spec.needs_build() && (!spec.patches.empty() || spec.amplifier || spec.debug)) {
        issue_at(spec.where, prefix, "a prebuilt kernel cannot take patches, the amplifier or debug",
                 "use a source (debian:linux-source-6.1 or a tree) to patch");
      }
      const fs::path patch_root = data_dir() / "images" / "patches";
      for (const auto& series : spec.patches) {
        if (!fs::is_directory(patch_root / series)) {
          issue(t->get("patches"), prefix + ".patches", fmt::format("patch series '{}' not found in {}", series, patch_root.string()));
        }
      }
      // Every kernel numasoak builds also has its debug variant, unless the
      // file defines that name itself (or this one is already a debug build).
      const std::string debug_name = name + kDebugSuffix;
      if (spec.needs_build() && !spec.debug && !kt->contains(debug_name)) {
        KernelSpec d = spec;
        d.name = debug_name;
        d.debug = true;
        d.description = (spec.description.empty() ? name : spec.description) +
                        " [debug: lockdep, KASAN, DEBUG_VM, PAGE_TABLE_CHECK, SLUB_DEBUG_ON]";
        out[debug_name] = std::move(d);
      }
      out[name] = std::move(spec);
    }
  }

  void load_topology(const toml::table& root, Topology& topo) {
    const toml::table* t = get_table(root, "", "topology");
    const std::string P = "topology";
    int nodes = 2, cpus = 1;
    std::optional<Bytes> memory, per_node;
    SourceLocation where{display_, 0, 0};
    if (t) {
      where = loc(t);
      check_keys(*t, P, {"nodes", "cpus_per_node", "memory", "memory_per_node", "distances"});
      if (auto v = get_int(*t, P, "nodes", 1, kMaxNodes)) nodes = static_cast<int>(*v);
      if (auto v = get_int(*t, P, "cpus_per_node", 1, kMaxGuestCpus)) cpus = static_cast<int>(*v);
      memory = get_bytes(*t, P, "memory");
      per_node = get_bytes(*t, P, "memory_per_node");
      if (t->get("memory") && t->get("memory_per_node")) {
        issue(t->get("memory_per_node"), P + ".memory_per_node", "give either memory (total) or memory_per_node, not both");
      }
      if (const toml::node* dn = t->get("distances")) {
        const toml::array* rows = dn->as_array();
        if (!rows) {
          type_issue(*dn, P + ".distances", "an array of arrays of integers");
        } else {
          for (const auto& row : *rows) {
            const toml::array* r = row.as_array();
            if (!r) {
              type_issue(row, P + ".distances", "an array of integers");
              topo.distances.clear();
              break;
            }
            std::vector<int> vals;
            for (const auto& x : *r) {
              if (!x.is_integer()) {
                type_issue(x, P + ".distances", "an integer");
                continue;
              }
              vals.push_back(static_cast<int>(*x.value<std::int64_t>()));
            }
            topo.distances.push_back(vals);
          }
        }
      }
    }
    topo.nodes.assign(static_cast<size_t>(nodes), NumaNode{cpus, MiB(1024)});
    if (memory) {
      const std::uint64_t mib = memory->mib();
      if (memory->value % MiB(1).value != 0 || mib % static_cast<std::uint64_t>(nodes) != 0) {
        issue(t->get("memory"), P + ".memory",
              fmt::format("{} does not divide evenly across {} nodes", format_bytes(*memory), nodes),
              "use a multiple of the node count in MiB, or memory_per_node");
        return;
      }
      for (auto& n : topo.nodes) n.memory = MiB(mib / static_cast<std::uint64_t>(nodes));
    } else if (per_node) {
      for (auto& n : topo.nodes) n.memory = *per_node;
    }
    const toml::node* anchor = t ? (t->get("memory") ? t->get("memory") : t->get("memory_per_node")) : nullptr;
    for (const auto& p : topo.problems()) {
      const bool about_distance = p.find("distance") != std::string::npos;
      const toml::node* n = about_distance && t ? t->get("distances") : anchor;
      issue_at(n ? loc(n) : where, P, p);
    }
  }

  void load_workload(const toml::table& root, WorkloadSpec& w) {
    const toml::table* t = get_table(root, "", "workload");
    if (!t) return;
    const std::string P = "workload";
    check_keys(*t, P, {"profile", "amplify_us", "amplify_uffd_us", "knobs", "extra_cmdline"});
    if (auto v = get_string(*t, P, "profile")) w.profile = *v;
    if (auto v = get_int(*t, P, "amplify_us", 0, 10000)) w.amplify_us = static_cast<int>(*v);
    if (auto v = get_int(*t, P, "amplify_uffd_us", 0, 10000)) w.amplify_uffd_us = static_cast<int>(*v);
    if (auto v = get_string_array(*t, P, "extra_cmdline")) {
      for (const auto& s : *v) {
        if (s.empty() || s.find_first_of(" \t\n\"'") != std::string::npos) {
          issue(t->get("extra_cmdline"), P + ".extra_cmdline", fmt::format("\"{}\" must be one word with no quotes", s));
        } else {
          w.extra_cmdline.push_back(s);
        }
      }
    }
    if (const toml::table* k = get_table(*t, P, "knobs")) {
      for (auto&& [key, v] : *k) {
        const std::string name(key.str());
        std::string text;
        if (v.is_integer()) text = std::to_string(*v.value<std::int64_t>());
        else if (v.is_boolean()) text = *v.value<bool>() ? "1" : "0";
        else if (v.is_floating_point()) text = fmt::format("{}", *v.value<double>());
        else if (v.is_string()) text = *v.value<std::string>();
        else {
          type_issue(v, P + ".knobs." + name, "a number, boolean or string");
          continue;
        }
        if (text.find_first_of(" \t\n\"'") != std::string::npos) {
          issue(&v, P + ".knobs." + name, "knob values may not contain spaces or quotes");
          continue;
        }
        w.knobs[name] = text;
      }
    }
  }

  void load_backend(const toml::table& root, BackendSpec& b) {
    const toml::table* t = get_table(root, "", "backend");
    if (!t) return;
    const std::string P = "backend";
    check_keys(*t, P, {"kind", "hosts"});
    if (auto v = get_string(*t, P, "kind")) {
      if (*v == "qemu") b.kind = BackendKind::kQemu;
      else if (*v == "libvirt") b.kind = BackendKind::kLibvirt;
      else {
        const std::string near = closest_match(*v, {"qemu", "libvirt"});
        issue(t->get("kind"), P + ".kind", fmt::format("\"{}\" is not a backend", *v),
              near.empty() ? "use \"qemu\" or \"libvirt\"" : "did you mean '" + near + "'?");
      }
    }
    if (const toml::node* hn = t->get("hosts")) {
      const toml::array* arr = hn->as_array();
      if (!arr) {
        type_issue(*hn, P + ".hosts", "an array of tables ([[backend.hosts]])");
        return;
      }
      for (const auto& el : *arr) {
        const toml::table* h = el.as_table();
        if (!h) {
          type_issue(el, P + ".hosts", "a table with uri, capacity, labels");
          continue;
        }
        check_keys(*h, P + ".hosts", {"uri", "capacity", "labels"});
        HostSpec host;
        host.where = loc(h);
        if (auto u = get_string(*h, P + ".hosts", "uri")) host.uri = *u;
        else if (!h->get("uri")) issue_at(host.where, P + ".hosts.uri", "required key is missing", "e.g. uri = \"qemu:///system\"");
        if (auto c = get_int(*h, P + ".hosts", "capacity", 0, 4096)) host.capacity = static_cast<int>(*c);
        if (auto l = get_string_array(*h, P + ".hosts", "labels")) host.labels = *l;
        if (!host.uri.empty()) b.hosts.push_back(std::move(host));
      }
    }
    if (b.kind == BackendKind::kQemu && !b.hosts.empty()) {
      issue(t->get("hosts"), P + ".hosts", "hosts are for the libvirt backend", "set kind = \"libvirt\" or drop hosts");
    }
  }

  // [sweep] amplify_us = [200, 50, 0]: distinct widths in 0..kMaxAmplifyUs,
  // kept in the file's order (the order the arms interleave in).
  void load_sweep(const toml::table& root, std::vector<int>& widths) {
    const toml::table* t = get_table(root, "", "sweep");
    if (!t) return;
    const std::string P = "sweep";
    check_keys(*t, P, {"amplify_us"});
    const toml::node* n = t->get("amplify_us");
    if (!n) {
      issue(t, P + ".amplify_us", "required key is missing", "e.g. amplify_us = [200, 50, 20, 0] (0 = off)");
      return;
    }
    const toml::array* arr = n->as_array();
    if (!arr) {
      type_issue(*n, P + ".amplify_us", "an array of integers (µs)");
      return;
    }
    if (arr->empty()) {
      issue(n, P + ".amplify_us", "lists no widths", "e.g. amplify_us = [200, 50, 20, 0] (0 = off)");
      return;
    }
    std::set<std::int64_t> seen;
    for (const auto& el : *arr) {
      if (!el.is_integer()) {
        issue(&el, P + ".amplify_us", fmt::format("expected integers (µs) in the array, got {}", type_name(el)));
        continue;
      }
      const std::int64_t v = *el.value<std::int64_t>();
      if (v < 0 || v > kMaxAmplifyUs) {
        issue(&el, P + ".amplify_us", fmt::format("{} is out of range 0..{}", v, kMaxAmplifyUs), "0 turns the widening off");
        continue;
      }
      if (!seen.insert(v).second) {
        issue(&el, P + ".amplify_us", fmt::format("{} is listed twice", v));
        continue;
      }
      widths.push_back(static_cast<int>(v));
    }
  }

};

std::map<std::string, KernelSpec> load_library(std::vector<ConfigIssue>& issues) {
  std::map<std::string, KernelSpec> out;
  const fs::path lib = data_dir() / "configs" / "kernels.toml";
  std::error_code ec;
  if (!fs::exists(lib, ec)) return out;
  const std::string text = read_file(lib);
  auto root = parse_toml(text, lib.string(), issues);
  if (!root) return out;
  Loader loader(lib.string(), lib.parent_path());
  loader.check_keys(*root, "", {"kernel"});
  loader.load_kernels(*root, out);
  issues.insert(issues.end(), loader.issues.begin(), loader.issues.end());
  return out;
}

}  // namespace

std::map<std::string, KernelSpec> load_kernel_library() {
  std::vector<ConfigIssue> issues;
  auto out = load_library(issues);
  if (!issues.empty()) throw ConfigErrors(std::move(issues));
  return out;
}

Campaign load_campaign_text(const std::string& text, const std::string& display_name, const fs::path& base_dir,
                            bool require_kernels) {
  std::vector<ConfigIssue> issues;
  Campaign c;
  c.kernels = load_library(issues);
  if (!issues.empty()) throw ConfigErrors(std::move(issues));

  if (text.find('\0') != std::string::npos) {
    throw ConfigErrors({{{display_name, 1, 1}, "", "this is a binary file, not a TOML campaign file", ""}});
  }
  auto root = parse_toml(text, display_name, issues);
  if (!root) throw ConfigErrors(std::move(issues));
  if (root->empty() && require_kernels) {
    throw ConfigErrors({{{display_name, 1, 1}, "", "the file is empty",
                         "a campaign needs at least kernels = [\"6.1\", \"6.1+backport\"]; see configs/default.toml"}});
  }

  Loader L(display_name, base_dir);
  L.check_keys(*root, "", {"name", "output", "kernels", "runs_per_kernel", "duration", "parallel", "oversubscribe",
                           "accel", "on_failure", "stop", "decide_by", "budget", "confidence", "topology", "workload", "watchdog",
                           "backend", "kernel", "sweep"});

  if (auto v = L.get_string(*root, "", "name")) {
    const bool ok = !v->empty() && v->size() <= 64 && std::all_of(v->begin(), v->end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    });
    if (ok) c.name = *v;
    else L.issue(root->get("name"), "name", fmt::format("\"{}\" may hold only letters, digits, '-', '_' and '.' (at most 64)", *v));
  } else if (!display_name.empty()) {
    c.name = sanitize_filename(fs::path(display_name).stem().string(), 64);
  }

  L.load_kernels(*root, c.kernels);

  if (auto names = L.get_string_array(*root, "", "kernels")) {
    std::vector<std::string> known;
    for (const auto& [n, spec] : c.kernels) known.push_back(n);
    std::set<std::string> seen;
    const toml::array* arr = root->get("kernels")->as_array();
    for (size_t i = 0; i < names->size(); ++i) {
      const auto& n = (*names)[i];
      const toml::node* el = arr->get(i);
      if (!seen.insert(n).second) {
        L.issue(el, "kernels", fmt::format("'{}' is listed twice", n));
        continue;
      }
      if (!c.kernels.count(n)) {
        const std::string near = closest_match(n, known);
        L.issue(el, "kernels", fmt::format("unknown kernel '{}'", n),
                near.empty() ? "define it in a [kernel.\"" + n + "\"] table or configs/kernels.toml"
                             : "did you mean '" + near + "'?");
        continue;
      }
      c.kernel_names.push_back(n);
    }
    if (names->empty() && require_kernels) L.issue(root->get("kernels"), "kernels", "lists no kernels", "e.g. kernels = [\"6.1\", \"6.1+backport\"]");
  } else if (!root->get("kernels") && require_kernels) {
    L.issue_at({display_name, 1, 1}, "kernels", "required key is missing", "e.g. kernels = [\"6.1\", \"6.1+backport\"]");
  }

  if (auto v = L.get_int(*root, "", "runs_per_kernel", 1, 100000)) c.runs_per_kernel = static_cast<int>(*v);
  if (auto v = L.get_duration(*root, "", "duration", std::chrono::seconds(1), std::chrono::hours(24 * 30))) c.duration = *v;
  if (auto v = L.get_int(*root, "", "parallel", 1, 256)) c.parallel = static_cast<int>(*v);
  if (auto v = L.get_double(*root, "", "oversubscribe", 0.1, 16.0)) c.oversubscribe = *v;
  if (auto v = L.get_enum<Accel>(*root, "accel", {{"auto", Accel::kAuto}, {"kvm", Accel::kKvm}, {"tcg", Accel::kTcg}})) c.accel = *v;
  if (auto v = L.get_enum<OnFailure>(*root, "on_failure", {{"stop", OnFailure::kStop}, {"continue", OnFailure::kContinue}})) c.on_failure = *v;
  if (auto v = L.get_enum<CampaignStop>(*root, "stop", {{"fixed", CampaignStop::kFixed}, {"decisive", CampaignStop::kDecisive}})) c.stop = *v;
  if (auto v = L.get_enum<DecideBy>(*root, "decide_by", {{"rates", DecideBy::kRates}, {"pairs", DecideBy::kPairs}})) c.decide_by = *v;
  if (auto v = L.get_duration(*root, "", "budget", std::chrono::minutes(1), std::chrono::hours(24 * 365))) c.budget = *v;
  if (auto v = L.get_double(*root, "", "confidence", 0.5, 0.9999)) c.confidence = *v;

  if (auto v = L.get_string(*root, "", "output")) {
    if (v->empty()) L.issue(root->get("output"), "output", "is empty");
    else c.output_dir = fs::absolute(*v).lexically_normal();
  }
  if (c.output_dir.empty()) c.output_dir = fs::absolute(fs::path("numasoak-out") / c.name).lexically_normal();

  L.load_topology(*root, c.topology);
  L.load_workload(*root, c.workload);
  if (const toml::table* w = L.get_table(*root, "", "watchdog")) {
    L.check_keys(*w, "watchdog", {"boot", "silence"});
    if (auto v = L.get_duration(*w, "watchdog", "boot", std::chrono::seconds(5), std::chrono::hours(1))) c.watchdog.boot = *v;
    if (auto v = L.get_duration(*w, "watchdog", "silence", std::chrono::seconds(10), std::chrono::hours(24))) c.watchdog.silence = *v;
  }
  L.load_backend(*root, c.backend);
  L.load_sweep(*root, c.sweep_amplify_us);
  if (c.is_sweep()) {
    // The sweep sets each arm's width: a second width in [workload] would
    // be silently overridden, so it is refused rather than guessed at.
    const toml::table* w = root->get("workload") ? root->get("workload")->as_table() : nullptr;
    if (w && w->get("amplify_us")) {
      L.issue(w->get("amplify_us"), "workload.amplify_us", "a campaign with [sweep] takes its widths from sweep.amplify_us",
              "drop workload.amplify_us (amplify_uffd_us is kept for every arm)");
    }
    // stop = "decisive" compares every kernel with the baseline and stops
    // when they differ: for the widths of a sweep that says nothing (they
    // are meant to differ) and would cut the dose-response short.
    if (c.stop == CampaignStop::kDecisive) {
      L.issue(root->get("stop"), "stop", "a sweep runs every width a fixed number of times; \"decisive\" compares kernels",
              "use stop = \"fixed\" with [sweep]");
    }
  }

  issues = std::move(L.issues);
  if (!issues.empty()) {
    sort_issues(issues);
    throw ConfigErrors(std::move(issues));
  }
  return c;
}

Campaign load_campaign(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw usage_error(fmt::format("{} is a directory, not a campaign file", file.string()));
  if (!fs::exists(file, ec)) throw usage_error(fmt::format("{} does not exist", file.string()), "give a campaign file such as configs/default.toml");
  const std::string text = read_file(file);
  Campaign c = load_campaign_text(text, file.string(), fs::absolute(file).parent_path());
  c.file = fs::absolute(file);
  return c;
}

}  // namespace numasoak

namespace numasoak {
std::string describe_source(const KernelSpec& spec) {
  switch (spec.kind) {
    case KernelSourceKind::kDebianSource: return "debian:" + spec.package;
    case KernelSourceKind::kDebianImage: return "debian-image:" + spec.package;
    case KernelSourceKind::kTree: return "tree:" + spec.path.string();
    case KernelSourceKind::kBzImage: return "bzImage:" + spec.path.string();
  }
  return "?";
}
}  // namespace numasoak

namespace numasoak {

nlohmann::json campaign_to_json(const Campaign& c) {
  nlohmann::json j;
  j["name"] = c.name;
  j["file"] = c.file.string();
  j["output_dir"] = c.output_dir.string();
  j["runs_per_kernel"] = c.runs_per_kernel;
  j["duration_s"] = seconds(c.duration);
  j["planned_guest_time_s"] = seconds(c.planned_guest_time());
  j["parallel"] = c.parallel;
  j["accel"] = to_string(c.accel);
  j["backend"] = to_string(c.backend.kind);
  j["stop"] = c.stop == CampaignStop::kFixed ? "fixed" : "decisive";
  if (c.stop == CampaignStop::kDecisive) j["decide_by"] = c.decide_by == DecideBy::kRates ? "rates" : "pairs";
  j["topology"] = {{"nodes", c.topology.nodes.size()},
                   {"cpus", c.topology.total_cpus()},
                   {"memory_mib", c.topology.total_memory().mib()},
                   {"describe", c.topology.describe()}};
  if (c.is_sweep()) {
    // The arms the store keys runs by, with the base kernel and width of
    // each: what `numasoak report` reads to rebuild the dose-response.
    j["sweep"] = {{"amplify_us", c.sweep_amplify_us}};
    for (const auto& a : c.arms()) {
      j["sweep"]["arms"].push_back({{"name", a.name}, {"kernel", a.kernel}, {"amplify_us", a.amplify_us.value_or(0)}});
    }
  }
  j["workload"] = {{"profile", c.workload.profile},
                   {"amplify_us", c.workload.amplify_us},
                   {"amplify_uffd_us", c.workload.amplify_uffd_us},
                   {"knobs", c.workload.knobs}};
  for (const auto& name : c.kernel_names) {
    const auto& k = c.kernel(name);
    j["kernels"].push_back({{"name", name},
                            {"source", describe_source(k)},
                            {"patches", k.patches},
                            {"fragments", k.fragments},
                            {"amplifier", k.amplifier},
                            {"debug", k.debug}});
  }
  return j;
}

}  // namespace numasoak
