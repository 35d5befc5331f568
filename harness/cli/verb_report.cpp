// numasoak report DIR [--json]: regenerate DIR/report.html and
// DIR/summary.json from DIR/numasoak.db and print the table and verdict.
//
// Safe next to a running campaign: the database is opened read-only and the
// campaign lock is not taken. Exit 1 when some run found a kernel failure,
// 0 when none did, 2 when DIR holds no campaign database. When DIR is not
// writable (a copied result folder) the files are skipped with a warning.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/verb.h"
#include "report/report.h"
#include "store/store.h"

namespace numasoak::cli {
namespace {

const VerbRegistration reg(70, [](Command& app, const Globals& globals) -> VerbAction {
  Command cmd = app.subcommand(
      "report", "Regenerate report.html and summary.json of a campaign folder and print its verdict (read-only)");
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd.option("dir", *dir, "Campaign output folder (holds numasoak.db)").required();
  cmd.flag("--json", *json, "Print summary.json instead of the table");
  return [dir, json, &globals]() -> ExitCode {
    const std::filesystem::path folder(*dir);
    if (!std::filesystem::is_regular_file(folder / kStoreFileName)) {
      throw usage_error(fmt::format("{} has no campaign database ({})", folder.string(), kStoreFileName),
                        "give the output folder of a campaign, which numasoak run creates");
    }
    const Store store = Store::open_read_only(folder);
    const report::Report rep = report::build_report(store);
    try {
      report::write_report_files(rep, folder);
    } catch (const Error& e) {
      // A read-only copy of a campaign still gets its table and verdict.
      spdlog::warn("report files not written: {}", e.what());
    }
    if (*json || globals.json) {
      std::cout << report::render_json(rep).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
      std::cout << report::render_terminal(rep);
      std::cout << fmt::format("\nreport: {}\n", (folder / "report.html").string());
      std::cout.flush();
    }
    if (!std::cout) throw infra_error("cannot write to standard output");
    return rep.any_failure() ? ExitCode::kKernelFailure : ExitCode::kOk;
  };
});

}  // namespace
}  // namespace numasoak::cli
