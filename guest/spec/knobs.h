// Workload knobs: every setting of numasoak-workload, its type, default,
// range and help, plus the named profiles.
//
// The guest reads them from the kernel command line as `nsw.<knob>=<value>`
// (nsw = numasoak workload; `numasoak.*` belongs to the kernel's amplifier
// parameters). The host includes this same header (include dir guest/, as
// "spec/knobs.h") to validate campaign knobs before it boots anything, so a
// typo fails in `numasoak check`, not three minutes into a run.
//
// Pure: standard library only, no OS headers, no I/O, never throws for bad
// input (errors come back as one-line strings).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace numasoak::nsw {

inline constexpr std::string_view kPrefix = "nsw.";
inline constexpr std::string_view kDefaultProfile = "bad-pmd";

enum class KnobType { kBool, kInt, kChoice };

struct KnobDef {
  std::string_view name;
  KnobType type;
  std::int64_t def;          // kChoice: index into `choices`
  std::int64_t min;          // kBool: 0, kChoice: 0
  std::int64_t max;          // kBool: 1, kChoice: number of choices - 1
  bool keep;                 // kInt: -1 means "leave the kernel's value as booted"
  std::string_view choices;  // kChoice: "a|b|c"
  std::string_view unit;     // shown in help: "s", "ms", "us", "MiB", ...
  std::string_view help;     // one line
};

// X(name, type, default, min, max, keep, choices, unit, help)
// kChoice defaults are indices into choices.
#define NUMASOAK_NSW_KNOBS(X)                                                                                     \
  /* run */                                                                                                        \
  X(duration, kInt, 180, 0, 2592000, false, "", "s", "workload run time; 0 = until the guest is powered off")     \
  X(seed, kInt, 1, 0, 2147483647, false, "", "", "seed for the integrity patterns")                                \
  X(heartbeat_ms, kInt, 1000, 100, 60000, false, "", "ms", "interval between heartbeat messages")                  \
  X(warn_after_s, kInt, 30, 0, 86400, false, "", "s",                                                              \
    "warn when neither THP migration nor huge-PMD NUMA updates happened by then; 0 = never")                       \
  X(min_nodes, kInt, 2, 1, 64, false, "", "", "config_error when the guest has fewer NUMA nodes with memory")      \
  X(processes, kInt, 2, 1, 64, false, "", "", "worker processes, each with its own private THP region")            \
  X(region_mb, kInt, 32, 2, 65536, false, "", "MiB", "THP-backed memory per worker (rounded up to 2 MiB)")         \
  /* kernel settings applied by the workload */                                                                    \
  X(numa_balancing, kInt, 1, 0, 3, true, "", "", "/proc/sys/kernel/numa_balancing; -1 = as booted")               \
  X(scan_delay_ms, kInt, -1, 0, 600000, true, "", "ms", "numa_balancing/scan_delay_ms; -1 = as booted")           \
  X(scan_period_min_ms, kInt, -1, 1, 600000, true, "", "ms", "numa_balancing/scan_period_min_ms; -1 = as booted") \
  X(scan_period_max_ms, kInt, -1, 1, 600000, true, "", "ms", "numa_balancing/scan_period_max_ms; -1 = as booted") \
  X(scan_size_mb, kInt, -1, 1, 65536, true, "", "MiB", "numa_balancing/scan_size_mb, never 0; -1 = as booted")    \
  X(thp, kChoice, 0, 0, 3, false, "always|madvise|never|keep", "",                                                 \
    "transparent_hugepage/enabled; a transparent_hugepage= boot option wins")                                      \
  X(thp_defrag, kChoice, 3, 0, 5, false, "always|defer|defer+madvise|madvise|never|keep", "",                       \
    "transparent_hugepage/defrag")                                                                                 \
  /* stressors */                                                                                                  \
  X(scan_focus, kBool, 1, 0, 1, false, "", "",                                                                      \
    "give the worker's other mappings an MPOL_LOCAL policy so NUMA balancing scans only the THP region")          \
  X(scan_drivers, kInt, 0, 0, 8, false, "", "",                                                                     \
    "CPU-bound threads per worker, off the mover's CPU: their runtime makes NUMA balancing scan this mm there")    \
  X(balancing, kBool, 1, 0, 1, false, "", "", "toucher threads on every CPU write the same THPs (NUMA hinting)")    \
  X(touchers, kInt, 1, 1, 16, false, "", "", "toucher threads per CPU per worker")                                 \
  X(touch_stride_kb, kInt, 64, 4, 2048, false, "", "KiB", "distance between two writes of a toucher")              \
  X(touch_pause_us, kInt, 0, 0, 1000000, false, "", "us", "pause after each toucher pass over the region")         \
  X(move_pages, kBool, 1, 0, 1, false, "", "", "migrate the worker's THPs between nodes: move_pages, mbind, migrate_pages")          \
  X(mover, kChoice, 0, 0, 1, false, "process|thread", "",                                                          \
    "where move_pages runs: a separate process (move_pages(pid), its CPU time does not trigger scans) or a thread") \
  X(move_batch, kInt, 0, 0, 65536, false, "", "THPs", "THPs per move_pages call; 0 = the whole region")             \
  X(move_pause_us, kInt, 0, 0, 10000000, false, "", "us", "pause between two migration calls")                     \
  X(mbind_interval_ms, kInt, 200, 0, 600000, false, "", "ms",                                                    \
    "mbind(MPOL_MF_MOVE) of a block then reset to the default policy, this often; 0 = never")                     \
  X(migrate_pages_every, kInt, 64, 0, 1000000, false, "", "",                                                      \
    "every Nth mover round is migrate_pages(2) of the whole worker; 0 = never")                               \
  X(uffd_wp, kBool, 1, 0, 1, false, "", "", "userfaultfd write-protect loops on the THP region")                   \
  X(uffd_wp_chunk_mb, kInt, 0, 0, 65536, false, "", "MiB", "range per UFFDIO_WRITEPROTECT; 0 = the whole region")  \
  X(uffd_wp_pause_us, kInt, 1000, 0, 10000000, false, "", "us", "pause between protect and unprotect")             \
  X(mprotect, kBool, 0, 0, 1, false, "", "", "mprotect RW <-> RWX flips on 2 MiB blocks (mmap_lock for write)")    \
  X(mprotect_pause_ms, kInt, 50, 0, 600000, false, "", "ms", "pause between two mprotect flips")                   \
  X(split_collapse, kBool, 0, 0, 1, false, "", "", "split THPs (4 KiB mprotect) and MADV_COLLAPSE them back")      \
  X(split_collapse_pause_ms, kInt, 200, 0, 600000, false, "", "ms", "pause between two split/collapse rounds")     \
  X(integrity, kBool, 1, 0, 1, false, "", "", "verify the pattern of every page the workload owns")                \
  X(verify_pause_ms, kInt, 20, 0, 600000, false, "", "ms", "pause between two verification passes")                \
  X(refresh_every, kInt, 8, 0, 1000000, false, "", "",                                                             \
    "rewrite one 2 MiB block with a new generation every Nth pass; 0 = never")                                     \
  X(max_reports, kInt, 1000, 1, 1000000, false, "", "", "integrity events reported in detail per worker")      \
  /* the transitions worker (guest/workload/transitions.h): every walker x every PMD transition */              \
  X(transitions, kBool, 0, 0, 1, false, "", "",                                                                    \
    "one more worker: every change_protection() walker against every PMD transition on anon and shmem THPs")      \
  X(transitions_mb, kInt, 8, 6, 1024, false, "", "MiB", "memory per kind (anon, shmem) of the transitions worker")  \
  X(transitions_pause_us, kInt, 1000, 0, 10000000, false, "", "us", "pause after each walk or transition")         \
  X(shmem_thp, kChoice, 0, 0, 4, false, "advise|always|within_size|never|keep", "",                                \
    "transparent_hugepage/shmem_enabled while the transitions worker runs")                                       \
  X(oracle, kBool, 1, 0, 1, false, "", "",                                                                          \
    "transitions worker: check that uffd-wp'd pages trap and PROT_READ pages fault on write")                      \
  X(oracle_skip_protect, kBool, 0, 0, 1, false, "", "",                                                             \
    "TEST ONLY: the oracle skips the protection it then checks (must be reported as a protection failure)")        \
  /* numasoak bench: an alternative stressor instead of the workers (guest/workload/external.h) */               \
  X(external, kChoice, 0, 0, 3, false, "none|selftest-migration|stress-ng-numa|stress-ng-vm-hugepage", "",        \
    "run this program (restarted when it exits) instead of the workers; the agent still reports vmstat rates")

enum class Knob : std::size_t {
#define NUMASOAK_NSW_ENUM(name, ...) name,
  NUMASOAK_NSW_KNOBS(NUMASOAK_NSW_ENUM)
#undef NUMASOAK_NSW_ENUM
};

inline constexpr std::array kKnobs = {
#define NUMASOAK_NSW_DEF(name, type, def, min, max, keep, choices, unit, help) \
  KnobDef{#name, KnobType::type, def, min, max, keep, choices, unit, help},
    NUMASOAK_NSW_KNOBS(NUMASOAK_NSW_DEF)
#undef NUMASOAK_NSW_DEF
};

inline constexpr std::size_t kKnobCount = kKnobs.size();

inline constexpr const KnobDef& def(Knob k) { return kKnobs[static_cast<std::size_t>(k)]; }

// A profile is a named set of knob assignments in command-line syntax
// (without the prefix). Knobs a profile does not name keep their defaults;
// explicit `nsw.<knob>=` settings override the profile whatever their order.
struct ProfileDef {
  std::string_view name;
  std::string_view help;
  std::string_view settings;
};

// The bad-pmd settings come from measurements in a 2-node, 2-vCPU TCG guest
// with numasoak.race_widen_us=200 (guest/README.md, "Tuning"): what limits
// the race there is how often NUMA balancing scans the THPs (each scan
// charges its thread 32x its cost) and how many THP migrations start while a
// scan waits. Hence few, small, scanner-focused regions, a short scan period
// and a scan budget that covers a region in one go, touchers that leave CPU
// to the migrators, and light uffd-wp/mbind/migrate_pages traffic.
// bad-pmd's settings, which the transitions profile extends.
#define NUMASOAK_NSW_BAD_PMD_SETTINGS                                                                                \
  "numa_balancing=1 scan_delay_ms=0 scan_period_min_ms=1 scan_period_max_ms=10 scan_size_mb=16 "                    \
  "thp=always thp_defrag=madvise processes=1 region_mb=8 scan_focus=1 scan_drivers=1 balancing=1 touchers=1 "       \
  "touch_pause_us=2000 move_pages=1 mover=process mbind_interval_ms=200 migrate_pages_every=256 uffd_wp=1 "          \
  "uffd_wp_pause_us=20000 mprotect=0 split_collapse=0 integrity=1 verify_pause_ms=200"
inline constexpr std::array kProfiles = {
    ProfileDef{"bad-pmd",
               "balancing + move_pages + uffd-wp + integrity, tuned to hit the change_prot_numa/THP-migration race",
               NUMASOAK_NSW_BAD_PMD_SETTINGS},
    // bad-pmd plus the transitions worker: what a backport must survive
    // (configs/validate-6.1.toml); the wrong 6.1 backports fail it.
    ProfileDef{"transitions",
               "bad-pmd plus every walker (NUMA, uffd-wp set/resolve, unregister, mprotect) against every PMD "
               "transition (migrate, zap, split, collapse, fault) on anon and shmem THPs, and the protection oracle",
               NUMASOAK_NSW_BAD_PMD_SETTINGS
               " transitions=1 transitions_mb=8 transitions_pause_us=1000 shmem_thp=advise oracle=1"},
    // Every walker and migrator of bad-pmd on one THP, so walks and
    // migrations meet on the same PMD (the co-location figure,
    // workload/colocation.h, counts walks x migrations per PMD): a 2 MiB
    // region (one block, one PMD) scanned by NUMA balancing, write-protected
    // and resolved by uffd-wp 100x as often as in bad-pmd, moved by the mover
    // process without pause and by mbind 4x as often. The touchers pause 10x
    // longer: under TCG their writes take the CPU the walks and the 2 MiB
    // copies need (measured: bench/colocation).
    ProfileDef{"concentrated",
               "bad-pmd's walkers (NUMA scans, uffd-wp) and migrators (move_pages, mbind, hint faults) all on "
               "one THP per worker: the most walk x migration pairs on the same PMD",
               NUMASOAK_NSW_BAD_PMD_SETTINGS
               " region_mb=2 uffd_wp_pause_us=200 mbind_interval_ms=50 touch_pause_us=20000"},
    ProfileDef{"balancing-only", "NUMA balancing with toucher threads on every node, no explicit migration",
               "numa_balancing=1 scan_delay_ms=0 scan_period_min_ms=1 scan_period_max_ms=10 scan_size_mb=16 "
               "thp=always thp_defrag=madvise processes=2 region_mb=8 scan_focus=1 balancing=1 touchers=1 "
               "move_pages=0 uffd_wp=0 mprotect=0 split_collapse=0 integrity=1 verify_pause_ms=200"},
    ProfileDef{"move-pages-only", "explicit THP migration (move_pages, mbind, migrate_pages), balancing off",
               "numa_balancing=0 thp=always thp_defrag=madvise processes=2 region_mb=8 balancing=0 move_pages=1 "
               "uffd_wp=0 mprotect=0 split_collapse=0 integrity=1 verify_pause_ms=200"},
    ProfileDef{"uffd-wp-only", "userfaultfd write-protect loops with a writer, balancing off",
               "numa_balancing=0 thp=always thp_defrag=madvise processes=2 region_mb=8 balancing=0 move_pages=0 "
               "uffd_wp=1 mprotect=0 split_collapse=0 integrity=1 verify_pause_ms=200"},
    // numasoak bench's alternative rows: the kernel settings of bad-pmd (NUMA
    // balancing tuned the same way), no workers, the program runs instead.
    ProfileDef{"alt-selftest-migration",
               "the kernel's selftests/vm/migration (needs the bench image), NUMA balancing tuned as bad-pmd",
               "numa_balancing=1 scan_delay_ms=0 scan_period_min_ms=1 scan_period_max_ms=10 scan_size_mb=16 "
               "thp=always thp_defrag=madvise processes=1 balancing=0 move_pages=0 uffd_wp=0 integrity=0 "
               "external=selftest-migration"},
    ProfileDef{"alt-stress-ng-numa", "stress-ng --numa (needs the bench image), NUMA balancing tuned as bad-pmd",
               "numa_balancing=1 scan_delay_ms=0 scan_period_min_ms=1 scan_period_max_ms=10 scan_size_mb=16 "
               "thp=always thp_defrag=madvise processes=1 balancing=0 move_pages=0 uffd_wp=0 integrity=0 "
               "external=stress-ng-numa"},
    ProfileDef{"alt-stress-ng-vm-hugepage",
               "stress-ng --vm --vm-madvise hugepage (needs the bench image), NUMA balancing tuned as bad-pmd",
               "numa_balancing=1 scan_delay_ms=0 scan_period_min_ms=1 scan_period_max_ms=10 scan_size_mb=16 "
               "thp=always thp_defrag=madvise processes=1 balancing=0 move_pages=0 uffd_wp=0 integrity=0 "
               "external=stress-ng-vm-hugepage"},
    ProfileDef{"quiet", "integrity checking only: the workload holds THPs and verifies them, balancing off",
               "numa_balancing=0 thp=always thp_defrag=madvise balancing=0 move_pages=0 uffd_wp=0 mprotect=0 "
               "split_collapse=0 integrity=1"},
};

inline constexpr const ProfileDef* find_profile(std::string_view name) {
  for (const auto& p : kProfiles)
    if (p.name == name) return &p;
  return nullptr;
}

inline constexpr std::optional<Knob> find_knob(std::string_view name) {
  for (std::size_t i = 0; i < kKnobs.size(); ++i)
    if (kKnobs[i].name == name) return static_cast<Knob>(i);
  return std::nullopt;
}

// The i-th choice of a kChoice knob ("" when out of range).
inline constexpr std::string_view choice_name(const KnobDef& d, std::int64_t index) {
  std::string_view rest = d.choices;
  for (std::int64_t i = 0; !rest.empty(); ++i) {
    const auto bar = rest.find('|');
    const std::string_view item = rest.substr(0, bar);
    if (i == index) return item;
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return {};
}

namespace detail {

inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <typename Names>
std::string closest(std::string_view word, const Names& names) {
  std::string best;
  std::size_t best_d = word.size() / 3 + 2;  // "close enough"
  for (const auto& n : names) {
    const std::size_t d = edit_distance(word, n.name);
    if (d < best_d) {
      best_d = d;
      best = std::string(n.name);
    }
  }
  return best;
}

inline std::string range_text(const KnobDef& d) {
  std::string out = "[" + std::to_string(d.min) + ", " + std::to_string(d.max) + "]";
  if (d.keep) out += " or -1";
  return out;
}

}  // namespace detail

// Parses `text` as a value of `d`. On success stores it in `out` and returns
// ""; otherwise returns the reason (without the knob name).
inline std::string parse_value(const KnobDef& d, std::string_view text, std::int64_t& out) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  if (text.empty()) return "empty value";
  switch (d.type) {
    case KnobType::kBool:
      if (text == "1" || text == "yes" || text == "on" || text == "true") {
        out = 1;
        return "";
      }
      if (text == "0" || text == "no" || text == "off" || text == "false") {
        out = 0;
        return "";
      }
      return "'" + std::string(text) + "' is not a boolean (use 0 or 1)";
    case KnobType::kChoice:
      for (std::int64_t i = d.min; i <= d.max; ++i) {
        if (choice_name(d, i) == text) {
          out = i;
          return "";
        }
      }
      return "'" + std::string(text) + "' is not one of " + std::string(d.choices);
    case KnobType::kInt: {
      std::int64_t v = 0;
      const char* first = text.data();
      const char* last = text.data() + text.size();
      const auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec == std::errc::result_out_of_range) return "'" + std::string(text) + "' is out of range " + detail::range_text(d);
      if (ec != std::errc() || ptr != last) return "'" + std::string(text) + "' is not an integer";
      if (!(d.keep && v == -1) && (v < d.min || v > d.max))
        return std::to_string(v) + " is out of range " + detail::range_text(d);
      out = v;
      return "";
    }
  }
  return "unknown knob type";
}

// The value as the command line spells it.
inline std::string format_value(const KnobDef& d, std::int64_t v) {
  if (d.type == KnobType::kChoice) return std::string(choice_name(d, v));
  return std::to_string(v);
}

// Resolved settings: defaults, then the profile, then explicit knobs.
struct Settings {
  std::string profile = std::string(kDefaultProfile);
  std::array<std::int64_t, kKnobCount> values{};
  std::array<bool, kKnobCount> explicitly_set{};  // named on the command line (not by the profile)

  Settings() {
    for (std::size_t i = 0; i < kKnobCount; ++i) values[i] = kKnobs[i].def;
  }
  std::int64_t get(Knob k) const { return values[static_cast<std::size_t>(k)]; }
  bool on(Knob k) const { return get(k) != 0; }
  std::string_view choice(Knob k) const { return choice_name(def(k), get(k)); }
  void set(Knob k, std::int64_t v) { values[static_cast<std::size_t>(k)] = v; }
};

struct ParseResult {
  Settings settings;
  std::vector<std::string> errors;  // one line each, "nsw.<knob>=<value>: reason"
  bool ok() const { return errors.empty(); }
};

// Checks one knob assignment: "" when valid, else the one-line error.
inline std::string check_knob(std::string_view name, std::string_view value) {
  const std::string shown = std::string(kPrefix) + std::string(name) + "=" + std::string(value);
  if (name == "profile") {
    if (find_profile(value)) return "";
    std::string msg = shown + ": unknown profile";
    const std::string near = detail::closest(value, kProfiles);
    msg += near.empty() ? " (profiles: bad-pmd, balancing-only, move-pages-only, uffd-wp-only, quiet)"
                        : " (did you mean '" + near + "'?)";
    return msg;
  }
  const auto k = find_knob(name);
  if (!k) {
    const std::string near = detail::closest(name, kKnobs);
    return shown + ": unknown knob" + (near.empty() ? std::string() : " (did you mean '" + near + "'?)");
  }
  std::int64_t v = 0;
  const std::string why = parse_value(def(*k), value, v);
  if (!why.empty()) return shown + ": " + why + " (" + std::string(def(*k).help) + ")";
  return "";
}

namespace detail {

inline void apply(Settings& s, std::string_view name, std::string_view value, bool is_explicit,
                  std::vector<std::string>& errors) {
  const std::string err = check_knob(name, value);
  if (!err.empty()) return errors.push_back(err);
  if (name == "profile") return;
  const Knob k = *find_knob(name);
  std::int64_t v = 0;
  parse_value(def(k), value, v);
  s.set(k, v);
  if (is_explicit) s.explicitly_set[static_cast<std::size_t>(k)] = true;
}

// Splits command-line text into words; a double-quoted part may hold spaces.
inline std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i >= text.size()) break;
    const std::size_t start = i;
    bool quoted = false;
    while (i < text.size() && (quoted || !(text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))) {
      if (text[i] == '"') quoted = !quoted;
      ++i;
    }
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Checks that hold between knobs.
inline void cross_check(const Settings& s, std::vector<std::string>& errors) {
  const auto lo = s.get(Knob::scan_period_min_ms), hi = s.get(Knob::scan_period_max_ms);
  if (lo != -1 && hi != -1 && lo > hi)
    errors.push_back("nsw.scan_period_min_ms=" + std::to_string(lo) + ": larger than nsw.scan_period_max_ms=" +
                     std::to_string(hi));
  const std::int64_t region = (s.get(Knob::region_mb) + 1) / 2 * 2;
  if (s.get(Knob::uffd_wp_chunk_mb) > region)
    errors.push_back("nsw.uffd_wp_chunk_mb=" + std::to_string(s.get(Knob::uffd_wp_chunk_mb)) +
                     ": larger than the region (nsw.region_mb=" + std::to_string(region) + ")");
}

template <typename Pairs>
ParseResult resolve(std::string_view profile, const Pairs& knobs) {
  ParseResult r;
  r.settings.profile = std::string(profile);
  const ProfileDef* p = find_profile(profile);
  if (!p) {
    r.errors.push_back(check_knob("profile", profile));
  } else {
    for (std::string_view w : words(p->settings)) {
      const auto eq = w.find('=');
      apply(r.settings, w.substr(0, eq), eq == std::string_view::npos ? "" : w.substr(eq + 1), false, r.errors);
    }
  }
  for (const auto& [name, value] : knobs) apply(r.settings, name, value, true, r.errors);
  if (r.errors.empty()) cross_check(r.settings, r.errors);
  return r;
}

}  // namespace detail

// Host side: a profile name plus knob assignments (names without the prefix),
// as a campaign's [workload] section holds them.
inline ParseResult resolve_settings(std::string_view profile, const std::map<std::string, std::string>& knobs) {
  return detail::resolve(profile, knobs);
}

// Guest side: the whole kernel command line (/proc/cmdline). Takes every
// `nsw.` word; `nsw.profile` selects the profile (default bad-pmd); a knob
// named twice keeps its last value. Words without the prefix are ignored.
inline ParseResult settings_from_cmdline(std::string_view cmdline) {
  std::string_view profile = kDefaultProfile;
  std::vector<std::pair<std::string_view, std::string_view>> knobs;
  std::vector<std::string> early;
  for (std::string_view w : detail::words(cmdline)) {
    if (w.substr(0, kPrefix.size()) != kPrefix) continue;
    w.remove_prefix(kPrefix.size());
    const auto eq = w.find('=');
    if (eq == std::string_view::npos) {
      early.push_back(std::string(kPrefix) + std::string(w) + ": missing '=<value>'");
      continue;
    }
    const std::string_view name = w.substr(0, eq), value = w.substr(eq + 1);
    if (name == "profile")
      profile = value;
    else
      knobs.emplace_back(name, value);
  }
  ParseResult r = detail::resolve(profile, knobs);
  r.errors.insert(r.errors.begin(), early.begin(), early.end());
  return r;
}

// The command-line words for a profile and knobs: "nsw.profile=bad-pmd nsw.duration=60".
inline std::string to_cmdline(std::string_view profile, const std::map<std::string, std::string>& knobs) {
  std::string out = std::string(kPrefix) + "profile=" + std::string(profile);
  for (const auto& [name, value] : knobs) out += " " + std::string(kPrefix) + name + "=" + value;
  return out;
}

// Region size in bytes, rounded up to whole 2 MiB blocks.
inline std::uint64_t region_bytes(const Settings& s) {
  const std::uint64_t mb = static_cast<std::uint64_t>(s.get(Knob::region_mb));
  return (mb + 1) / 2 * 2 * (std::uint64_t{1} << 20);
}

}  // namespace numasoak::nsw
