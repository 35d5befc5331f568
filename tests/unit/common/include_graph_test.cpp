// The include graph keeps DEVELOPERS.md's rules: a module uses only the
// modules listed before it in harness/CMakeLists.txt; the detector
// (console/) knows nothing of runs, VMs or the store; the report reads the
// store, not live runs or VMs; and no file outside harness/vm/ includes a
// concrete backend's header (vm/qemu/..., vm/libvirt/...): everything else
// holds a vm::Backend& made by vm/backends.h; and only cli/command.cpp and
// cli/main.cpp include CLI11 (its header costs ~5 s of compile per file).
//
// The checker is pure (a graph in, violations out) and is tested on a
// synthetic broken graph first, so a rule that silently checks nothing
// fails here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "unit/common/harness_tree.h"

namespace numasoak {
namespace {

namespace fs = std::filesystem;

/// One source file's includes, by its path under harness/ ("run/run.cpp"):
/// every quoted one, and the angle-bracket ones the rules name (CLI11).
using IncludeGraph = std::map<std::string, std::vector<std::string>>;

/// The modules of harness/CMakeLists.txt's NUMASOAK_MODULES, in order.
std::vector<std::string> module_order(const std::string& cmake) {
  std::vector<std::string> out;
  const auto begin = cmake.find("set(NUMASOAK_MODULES");
  if (begin == std::string::npos) return out;
  std::istringstream in(cmake.substr(begin));
  std::string line;
  std::getline(in, line);  // "set(NUMASOAK_MODULES"
  static const std::regex kName(R"(^\s*([a-z_]+)\b)");
  while (std::getline(in, line)) {
    const std::string code = line.substr(0, line.find('#'));  // comments may hold parentheses
    std::smatch m;
    if (std::regex_search(code, m, kName)) out.push_back(m[1].str());
    if (code.find(')') != std::string::npos) break;
  }
  return out;
}

/// The `#include "..."` and `#include <CLI/...>` targets of one file's text.
std::vector<std::string> includes_of(const std::string& text) {
  std::vector<std::string> out;
  static const std::regex kInclude(R"re(^\s*#\s*include\s*(?:"([^"]+)"|<(CLI/[^>]+)>))re");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kInclude)) out.push_back(m[1].matched ? m[1].str() : m[2].str());
  }
  return out;
}

std::string top_folder(const std::string& path) {
  const auto slash = path.find('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool is_concrete_backend_header(const std::string& include) {
  return include.rfind("vm/qemu/", 0) == 0 || include.rfind("vm/libvirt/", 0) == 0;
}

/// Every rule broken by `graph`, one line each ("console/x.cpp includes run/run.h: ...").
std::vector<std::string> violations(const IncludeGraph& graph, const std::vector<std::string>& order) {
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  const std::map<std::string, std::set<std::string>> forbidden = {
      {"console", {"run", "vm", "store"}},
      {"report", {"run", "vm", "campaign", "bench"}},
  };
  std::vector<std::string> out;
  for (const auto& [file, includes] : graph) {
    const std::string from = top_folder(file);
    for (const auto& inc : includes) {
      const std::string to = top_folder(inc);
      if (from != "vm" && is_concrete_backend_header(inc)) {
        out.push_back(file + " includes " + inc + ": a concrete backend header outside vm/ (use vm/backends.h)");
      }
      if (to == "CLI" && file != "cli/command.cpp" && file != "cli/main.cpp") {
        out.push_back(file + " includes <" + inc + ">: only cli/command.cpp and cli/main.cpp include CLI11 (use cli/command.h)");
      }
      // The guest's code is built static for the guest; the host shares only
      // its spec (guest/spec: knobs, protocol, paths), never workload/.
      if (to == "workload") {
        out.push_back(file + " includes " + inc + ": the harness uses the guest only through guest/spec");
      }
      if (auto f = forbidden.find(from); f != forbidden.end() && f->second.count(to)) {
        out.push_back(file + " includes " + inc + ": " + from + "/ must not use " + to + "/");
      }
      const auto a = rank.find(from), b = rank.find(to);
      if (a != rank.end() && b != rank.end() && b->second > a->second) {
        out.push_back(file + " includes " + inc + ": " + to + " is listed after " + from + " in harness/CMakeLists.txt");
      }
    }
  }
  return out;
}

using test::kHarness;
using test::read_text;

IncludeGraph harness_graph() {
  IncludeGraph g;
  for (const auto& e : fs::recursive_directory_iterator(kHarness)) {
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
    g[fs::relative(e.path(), kHarness).generic_string()] = includes_of(read_text(e.path()));
  }
  return g;
}

bool mentions(const std::vector<std::string>& v, const std::string& file, const std::string& what) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) {
    return s.rfind(file + " ", 0) == 0 && s.find(what) != std::string::npos;
  });
}

TEST(IncludeGraph, CheckerFindsEveryKindOfBrokenRule) {
  const std::vector<std::string> order = module_order(
      "set(NUMASOAK_MODULES\n  common      # x\n  console     # y (pure, no I/O)\n  vm\n  run\n  store\n  report\n  campaign\n)\n");
  ASSERT_EQ(order, (std::vector<std::string>{"common", "console", "vm", "run", "store", "report", "campaign"}));
  const IncludeGraph broken = {
      {"common/log.cpp", includes_of("#include \"common/log.h\"\n#include \"vm/backend.h\"\n")},
      {"console/detector.cpp", {"console/detector.h", "store/store.h"}},
      {"report/report.cpp", {"store/store.h", "run/run.h"}},
      {"campaign/runner.h", {"vm/backend.h", "vm/libvirt/libvirt_pool.h"}},
      {"cli/verb_run.cpp", {"vm/qemu/qemu_backend.h", "campaign/prepare.h"}},
      {"vm/backends.cpp", {"vm/qemu/qemu_backend.h", "vm/libvirt/libvirt_pool.h"}},
      {"run/run.cpp", {"run/run.h", "vm/backend.h", "common/log.h", "spec/knobs.h"}},
      {"bench/bench_image.cpp", {"bench/bench_image.h", "workload/external.h"}},
      {"cli/verb_x.cpp", includes_of("#include <CLI/CLI.hpp>\n#include <vector>\n#include \"cli/command.h\"\n")},
      {"cli/command.cpp", includes_of("#include \"cli/command.h\"\n\n#include <CLI/CLI.hpp>\n")},
  };
  const auto v = violations(broken, order);
  EXPECT_TRUE(mentions(v, "common/log.cpp", "listed after")) << "a lower module using a higher one";
  EXPECT_TRUE(mentions(v, "console/detector.cpp", "must not use store/"));
  EXPECT_TRUE(mentions(v, "report/report.cpp", "must not use run/"));
  EXPECT_TRUE(mentions(v, "campaign/runner.h", "concrete backend"));
  EXPECT_TRUE(mentions(v, "cli/verb_run.cpp", "concrete backend")) << "cli/ is not a module but is checked";
  EXPECT_FALSE(mentions(v, "vm/backends.cpp", "")) << "vm/ may name its own backends";
  EXPECT_FALSE(mentions(v, "run/run.cpp", "")) << "lower modules and non-module folders are fine";
  EXPECT_FALSE(mentions(v, "report/report.cpp", "store/")) << "the report reads the store";
  EXPECT_TRUE(mentions(v, "bench/bench_image.cpp", "only through guest/spec"));
  EXPECT_TRUE(mentions(v, "cli/verb_x.cpp", "include CLI11"));
  EXPECT_FALSE(mentions(v, "cli/command.cpp", "")) << "command.cpp is where CLI11 lives";
  EXPECT_EQ(broken.at("cli/verb_x.cpp"), (std::vector<std::string>{"CLI/CLI.hpp", "cli/command.h"})) << "other system headers are not rules' business";
  EXPECT_EQ(v.size(), 8u) << ::testing::PrintToString(v);
}

TEST(IncludeGraph, HarnessKeepsTheRules) {
  const std::vector<std::string> order = module_order(read_text(kHarness / "CMakeLists.txt"));
  ASSERT_GE(order.size(), 10u) << "harness/CMakeLists.txt's module list was not found";
  ASSERT_EQ(order.front(), "common");
  const IncludeGraph graph = harness_graph();
  ASSERT_GT(graph.size(), 100u) << kHarness;
  size_t edges = 0;
  for (const auto& [f, inc] : graph) edges += inc.size();
  EXPECT_GT(edges, 300u) << "the include lines were not read";
  const auto v = violations(graph, order);
  std::string text;
  for (const auto& s : v) text += "\n  " + s;
  EXPECT_TRUE(v.empty()) << v.size() << " include rule(s) broken:" << text;
}

}  // namespace
}  // namespace numasoak
