#include "report/matrix.h"

#include <fmt/format.h>

#include "common/terminal_safe.h"
#include "report/text.h"

namespace numasoak::report {

namespace proto = nsw::protocol;

namespace {

std::string cell_key(std::size_t w, std::size_t t, std::size_t m) {
  return fmt::format("matrix.{}.{}.{}", proto::kWalkers[w], proto::kTransitions[t], proto::kMemory[m]);
}

template <typename Fn>
void for_each_cell(Fn&& fn) {
  for (std::size_t w = 0; w < proto::kWalkers.size(); ++w)
    for (std::size_t t = 0; t < proto::kTransitions.size(); ++t)
      for (std::size_t m = 0; m < proto::kMemory.size(); ++m) fn(w, t, m);
}

}  // namespace

std::string cell_label(std::size_t walker, std::size_t transition, std::size_t memory) {
  return fmt::format("{} x {} ({})", proto::kWalkers[walker], proto::kTransitions[transition], proto::kMemory[memory]);
}

std::vector<MatrixTable> build_matrix(const Report& report) {
  std::vector<MatrixTable> out;
  for (const auto& k : report.kernels) {
    MatrixTable t;
    t.kernel = k.name;
    for (const auto& r : report.results) {
      if (r.kernel != k.name) continue;
      // Runs that never ran the worker carry no matrix keys.
      if (!r.event_totals.count(cell_key(0, 0, 0))) continue;
      t.seen = true;
      t.seconds += r.exposure_s;
      for_each_cell([&](std::size_t w, std::size_t tr, std::size_t m) {
        const auto it = r.event_totals.find(cell_key(w, tr, m));
        if (it != r.event_totals.end() && it->second > 0) t.count[proto::matrix_cell(w, tr, m)] += it->second;
      });
    }
    if (t.seen) {
      for_each_cell([&](std::size_t w, std::size_t tr, std::size_t m) {
        if (proto::matrix_impossible(w, tr, m).empty() && t.count[proto::matrix_cell(w, tr, m)] == 0)
          t.unexercised.push_back(cell_label(w, tr, m));
      });
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string render_matrix_section(const Report& report) {
  const auto tables = build_matrix(report);
  bool any = false;
  for (const auto& t : tables) any = any || t.seen;
  if (!any) return {};
  std::string h = "<section><h2>Walkers x PMD transitions (events/s)</h2>\n"
                  "<p class=muted>A cell counts the walks of one kind that overlapped a transition of one kind on the "
                  "same 2 MiB block (the NUMA row: transitions in seconds in which NUMA balancing updated PTEs), per "
                  "second of workload, over all finished runs of the build. <b>0</b> = not exercised; "
                  "<i>n/a</i> = the kernel cannot (hover for why).</p>\n";
  for (const auto& t : tables) {
    if (!t.seen) continue;
    h += fmt::format("<h3>{}</h3><table><tr><th>walker</th>", html_escape(t.kernel));
    for (const auto tr : proto::kTransitions)
      for (const auto m : proto::kMemory) h += fmt::format("<th class=n>{}<br>{}</th>", tr, m);
    h += "</tr>\n";
    for (std::size_t w = 0; w < proto::kWalkers.size(); ++w) {
      h += fmt::format("<tr><td><code>{}</code></td>", proto::kWalkers[w]);
      for (std::size_t tr = 0; tr < proto::kTransitions.size(); ++tr)
        for (std::size_t m = 0; m < proto::kMemory.size(); ++m) {
          const auto why = proto::matrix_impossible(w, tr, m);
          if (!why.empty()) {
            h += fmt::format("<td class=n title=\"{}\"><i>n/a</i></td>", html_escape(why));
            continue;
          }
          const double n = t.count[proto::matrix_cell(w, tr, m)];
          const double per_s = t.seconds > 0 ? n / t.seconds : 0;
          h += n == 0 ? "<td class=n><b>0</b></td>" : fmt::format("<td class=n>{}</td>", format_number(per_s));
        }
      h += "</tr>\n";
    }
    h += "</table>\n";
    if (!t.unexercised.empty())
      h += fmt::format("<p><b>Not exercised on {}:</b> {}</p>\n", html_escape(t.kernel),
                       html_escape(fmt::format("{}", fmt::join(t.unexercised, ", "))));
  }
  h += "</section>\n";
  return h;
}

nlohmann::json matrix_json(const Report& report) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : build_matrix(report)) {
    if (!t.seen) continue;
    nlohmann::json cells = nlohmann::json::object(), impossible = nlohmann::json::object();
    for_each_cell([&](std::size_t w, std::size_t tr, std::size_t m) {
      const std::string key = fmt::format("{}.{}.{}", proto::kWalkers[w], proto::kTransitions[tr], proto::kMemory[m]);
      const auto why = proto::matrix_impossible(w, tr, m);
      if (!why.empty()) {
        impossible[key] = std::string(why);
        return;
      }
      cells[key] = t.seconds > 0 ? t.count[proto::matrix_cell(w, tr, m)] / t.seconds : 0.0;
    });
    j.push_back({{"kernel", t.kernel},
                 {"workload_s", t.seconds},
                 {"per_second", cells},
                 {"impossible", impossible},
                 {"unexercised", t.unexercised}});
  }
  return j;
}

std::string matrix_terminal(const Report& report) {
  std::size_t possible = 0;
  for_each_cell([&](std::size_t w, std::size_t tr, std::size_t m) { possible += proto::matrix_impossible(w, tr, m).empty(); });
  std::string out;
  for (const auto& t : build_matrix(report)) {
    if (!t.seen || t.unexercised.empty()) continue;
    out += fmt::format("{} was not exercised on {} of {} walker x transition pairs: {}\n", terminal_safe(t.kernel),
                       t.unexercised.size(), possible, fmt::join(t.unexercised, ", "));
  }
  return out;
}

}  // namespace numasoak::report
